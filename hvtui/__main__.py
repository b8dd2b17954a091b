from hvtui.cli import main

raise SystemExit(main())
