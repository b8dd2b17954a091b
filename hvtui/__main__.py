from hvtui.cli.main import main

raise SystemExit(main())
