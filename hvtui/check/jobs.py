"""Several checks of one command (`--variant all`, several files) in N worker processes.

Processes, not threads: the search is pure Python, so threads would share one
core. Workers are started with "spawn" (a fresh interpreter: forking a parent
that may hold threads and locks is unsafe) and each runs one check at a time;
a check and its Result cross the pipe pickled. Results come back in the order
of the tasks, whatever order the workers finish in, so the output of N
workers is the output of one.

Ctrl-C: each worker has its own process group, so the terminal's SIGINT
reaches the parent only; the parent passes one SIGINT to each busy worker's
group, whose search then stops the way it does in one process (its Result
marked "stopped by Ctrl-C"), sends what it found and exits (a SPIN check's
compiler or pan gets the SIGINT too, and the check sends nothing, as in one
process). No task is started after that. A second Ctrl-C passes a second
SIGINT on (a search then quits at once) and stops waiting. A worker whose
parent has died cancels its check and exits (nothing would read its result).
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hvtui.check.limits import Interrupt
from hvtui.check.search import Interrupted, Progress, Result

if TYPE_CHECKING:  # multiprocessing loads when workers start: `check --help` stays quick
    from multiprocessing.connection import Connection

# work(task, progress, cancel) -> Result; a module-level function (it is pickled by name)
Work = Callable[[Any, Callable[[Progress], None] | None, Callable[[], bool] | None], Result]
# report(task index, progress so far, or None once that task has ended)
Report = Callable[[int, Progress | None], None]

_WAIT = 0.1  # seconds between looks at Ctrl-C while waiting for workers
_JOIN = 5.0  # seconds a worker gets to exit before it is killed
_PR_SET_PDEATHSIG = 1  # prctl(2)


@dataclass
class Outcome:
    results: list[tuple[int, Result]]  # (task index, its result), in task order
    interrupted: bool  # Ctrl-C: tasks after the stopped ones did not run


def run(work: Work, tasks: Sequence[Any], jobs: int = 1, report: Report | None = None) -> Outcome:
    """`work(task, ...)` for every task: here, in order, if `jobs` is 1 (or
    there is one task), else in min(jobs, len(tasks)) worker processes."""
    workers = min(jobs, len(tasks))
    if workers <= 1:
        return _here(work, tasks, report)
    return _Pool(work, workers, report).run(tasks)


def _here(work: Work, tasks: Sequence[Any], report: Report | None) -> Outcome:
    done: list[tuple[int, Result]] = []
    for index, task in enumerate(tasks):
        progress = (lambda p, i=index: report(i, p)) if report else None
        try:
            done.append((index, work(task, progress, None)))
        except Interrupted as stop:  # Ctrl-C: this one's verdicts so far
            done.append((index, stop.result))
            return Outcome(done, True)
        except KeyboardInterrupt:  # between two checks, or a second Ctrl-C
            return Outcome(done, True)
        finally:
            if report:
                report(index, None)
    return Outcome(done, False)


class _Pool:
    def __init__(self, work: Work, workers: int, report: Report | None):
        self.work = work
        self.size = workers
        self.report = report

    def run(self, tasks: Sequence[Any]) -> Outcome:
        import multiprocessing
        from multiprocessing.connection import wait

        context = multiprocessing.get_context("spawn")
        results: dict[int, Result] = {}
        waiting = list(enumerate(tasks))[::-1]  # popped from the end: task 0 first
        busy: dict[Connection, int] = {}  # -> the index of the task it runs
        idle: list[Connection] = []
        stopping = False
        with (
            Interrupt() as ctrl_c,
            _started(context, self.work, self.size, bool(self.report)) as live,
        ):
            try:
                while live and (busy or (waiting and not stopping)):
                    if ctrl_c.hit and not stopping:
                        stopping = True
                        for conn in busy:
                            _interrupt(live[conn])
                    while idle and waiting and not stopping:
                        conn = idle.pop()
                        index, task = waiting.pop()
                        conn.send(task)
                        busy[conn] = index
                    for conn in wait(list(live), _WAIT):
                        message = _receive(conn)
                        if message is None:  # it exited: after a Ctrl-C, or it died
                            proc = live.pop(conn)
                            self._ended(busy.pop(conn, None))
                            if not stopping:
                                proc.join()
                                raise RuntimeError(
                                    f"a check worker (pid {proc.pid}) exited unexpectedly "
                                    f"(status {proc.exitcode})"
                                )
                        elif message[0] == "ready":
                            idle.append(conn)
                        elif message[0] == "progress":
                            self.report(busy[conn], message[1])
                        elif message[0] == "error":  # (the worker's exception, if it crossed)
                            failed = RuntimeError(f"a check worker failed:\n{message[1]}")
                            if message[2] is None:
                                raise failed
                            # a tool's failure or bad input is reported as the
                            # CLI reports it without --jobs; the worker's
                            # traceback stays its cause
                            raise message[2] from failed
                        else:  # ("result", result or None, stopped)
                            _, result, stopped = message
                            index = busy.pop(conn)
                            self._ended(index)
                            if result is not None:
                                results[index] = result
                            if stopped:  # a stopped worker exits; no task starts after it
                                live.pop(conn)
                                stopping = True
                            else:
                                idle.append(conn)
            except KeyboardInterrupt:  # a second Ctrl-C: theirs, and stop waiting for them
                stopping = True
                for conn in busy:
                    _interrupt(live[conn])
        return Outcome(sorted(results.items()), stopping)

    def _ended(self, index: int | None) -> None:
        if index is not None and self.report:
            self.report(index, None)


def _interrupt(proc) -> None:
    """A Ctrl-C for the worker's process group, as the terminal would have sent
    it: the worker and what it runs (SPIN's compiler and its cc1, pan)."""
    try:
        os.killpg(proc.pid, signal.SIGINT)  # a busy worker has made its group (_worker)
    except ProcessLookupError:  # it has exited already
        pass


def _receive(conn: Connection):
    """The worker's next message, or None if it has gone (also in the middle
    of a message: the pipe frames each one with its length)."""
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


@contextmanager
def _started(context, work: Work, size: int, progress: bool) -> Iterator[dict[Connection, Any]]:
    """`size` worker processes, by the parent's end of their pipes; on the way
    out every one is told to stop, waited for, and killed if it does not."""
    workers = {}
    # A new interpreter installs its KeyboardInterrupt handler only where SIGINT
    # is not ignored: started with it ignored, a worker cannot be hit by a Ctrl-C
    # before it has left the terminal's process group (_worker).
    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        for _ in range(size):
            mine, theirs = context.Pipe()
            proc = context.Process(
                target=_worker, args=(theirs, work, progress, os.getpid()), daemon=True
            )
            proc.start()
            theirs.close()
            workers[mine] = proc
    finally:
        if main:
            signal.signal(signal.SIGINT, before)
    try:
        yield dict(workers)  # the caller forgets those that exit
    finally:
        for conn in workers:
            try:
                conn.send(None)
            except OSError:  # it has exited
                pass
        for conn, proc in workers.items():
            proc.join(_JOIN)
            if proc.is_alive():
                proc.kill()
                proc.join()
            conn.close()


def _ctrl_c_when_orphaned() -> None:
    """Linux: a SIGINT when the parent dies, even by SIGKILL, so that a worker
    busy in SPIN's compiler or pan stops them and exits too (a search of
    ours also notices by itself: `orphaned` below)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
    except (OSError, AttributeError):  # not Linux
        pass


def _worker(conn: Connection, work: Work, progress: bool, parent: int) -> None:
    os.setpgid(0, 0)  # the terminal's Ctrl-C is the parent's to pass on
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _ctrl_c_when_orphaned()
    orphaned = lambda: os.getppid() != parent  # noqa: E731
    if orphaned():  # it died before we asked
        return
    try:
        conn.send(("ready",))
        for task in iter(conn.recv, None):
            report = (lambda p: conn.send(("progress", p))) if progress else None
            try:
                result, stopped = work(task, report, orphaned), False
            except Interrupted as stop:
                result, stopped = stop.result, True
            except KeyboardInterrupt:  # before its search began (SPIN: while compiling)
                result, stopped = None, True
            except Exception as exc:
                conn.send(("error", traceback.format_exc(), _crossing(exc)))
                return
            conn.send(("result", result, stopped))
            if stopped:
                return
    except (KeyboardInterrupt, EOFError, OSError):  # Ctrl-C between checks, or no parent
        return


def _crossing(exc: Exception) -> Exception | None:
    """exc if it comes through a pipe whole (pickled and back), else None."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return None
    return exc
