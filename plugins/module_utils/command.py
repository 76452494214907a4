# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the collection's modules run external commands.

A :class:`CommandRunner` is made once per tool (see the factories at the end): it resolves the
program once, with one failure message, knows how each option becomes flags (``fmt``), and runs
every command with ``LC_ALL=C`` and ``LANGUAGE=C`` so that the messages modules match (ldd's
"not a dynamic executable", nvidia-smi's "couldn't communicate") are never translated.
Everything ends in ``AnsibleModule.run_command``, the one seam unit tests patch.

Failures are raised (module_utils.errors), never ``fail_json``-ed here.
"""

from __future__ import annotations

import collections
import os

from ansible_collections.dlstack.cdh.plugins.module_utils.errors import CommandFailed, CommandNotFound

CommandResult = collections.namedtuple("CommandResult", ["rc", "stdout", "stderr", "argv"])

FORCED_LANG = "C"


def locale_environ(lang=FORCED_LANG):
    """The environment that keeps a tool's messages untranslated ({} when ``lang`` is None)."""
    return {"LANGUAGE": lang, "LC_ALL": lang} if lang else {}


class fmt:
    """How an option's value becomes argv words; every format returns a list of strings.

    ``None`` means "not given" and yields no words (except for ``as_fixed``).
    """

    @staticmethod
    def as_fixed(*words):
        """Always these words (sub-commands, flags the tool always needs)."""
        return lambda _value: [str(w) for w in words]

    @staticmethod
    def as_bool(*words):
        """The words when the value is true, nothing otherwise."""
        return lambda value: [str(w) for w in words] if value else []

    @staticmethod
    def as_opt_val(option):
        """``option value`` for a scalar."""
        return lambda value: [] if value is None else [option, str(value)]

    @staticmethod
    def as_opt_each(option):
        """``option item`` for each item of a list (``-c a -c b``)."""
        return lambda value: [w for item in (value or []) for w in (option, str(item))]

    @staticmethod
    def as_list():
        """The items of a list as they are (a scalar is one word)."""
        def words(value):
            if value is None:
                return []
            if isinstance(value, (list, tuple)):
                return [str(v) for v in value]
            return [str(value)]
        return words


def resolve_binary(module, command, extra_dirs=(), what=None, hint=None):
    """Absolute path of ``command`` (a name looked up on PATH and ``extra_dirs``, or a path).

    The one place a missing program is reported: raises CommandNotFound naming ``what`` (the
    option or tool the user knows) and ``hint`` (how to get it).
    """
    label = what or command
    tail = "; %s" % hint if hint else ""
    if os.sep in command:
        if os.path.isfile(command) and os.access(command, os.X_OK):
            return command
        raise CommandNotFound("%s %s is not an executable file%s" % (label, command, tail))
    found = module.get_bin_path(command, required=False, opt_dirs=list(extra_dirs))
    if not found:
        where = " or in %s" % ", ".join(extra_dirs) if extra_dirs else ""
        raise CommandNotFound("%s (%s) not found on PATH%s%s" % (label, command, where, tail))
    return found


def find_binary(module, name, extra_dirs=()):
    """Path of an optional program, or None when it is not installed."""
    try:
        return resolve_binary(module, name, extra_dirs)
    except CommandNotFound:
        return None


def failure(what, rc, stdout, stderr, argv):
    """The CommandFailed for a command that exited ``rc``, its message naming ``what``."""
    detail = (stderr or stdout or "").strip()
    return CommandFailed("%s failed (rc=%d): %s" % (what, rc, detail or "no output"),
                         rc=rc, cmd=argv, stdout=stdout, stderr=stderr)


def execute(module, argv, check_rc=False, what=None, lang=FORCED_LANG, environ_update=None, data=None, cwd=None):
    """Run ``argv`` (a list, never a shell string) with the forced locale; a CommandResult."""
    argv = [str(a) for a in argv]
    environ = locale_environ(lang)
    environ.update(environ_update or {})
    rc, stdout, stderr = module.run_command(argv, check_rc=False, data=data, environ_update=environ, cwd=cwd)
    if check_rc and rc != 0:
        raise failure(what or os.path.basename(argv[0]), rc, stdout, stderr, argv)
    return CommandResult(rc, stdout, stderr, argv)


def run(module, argv, check_rc=False, what=None, environ_update=None, data=None, cwd=None):
    """A one-off command for tools without a runner of their own (dpkg-query, nvidia-smi)."""
    return execute(module, argv, check_rc=check_rc, what=what, environ_update=environ_update, data=data, cwd=cwd)


class CommandRunner:
    """One tool: its resolved program, the flags of each option, its environment.

    ``runner("verb prefix channels specs")`` picks the options (in argv order) for one command
    and returns a :class:`RunContext`; ``.run(prefix=..., specs=...)`` gives their values.
    """

    def __init__(self, module, command, arg_formats, base_args=(), extra_dirs=(), what=None, hint=None,
                 lang=FORCED_LANG, environ_update=None, resolve=True):
        self.module = module
        self.binary = resolve_binary(module, command, extra_dirs, what=what, hint=hint) if resolve else command
        self.base_args = [str(a) for a in base_args]
        self.arg_formats = dict(arg_formats)
        self.lang = lang
        self.environ_update = dict(environ_update or {})
        self.name = what or os.path.basename(command)

    def __call__(self, args_order, check_rc=False, check_mode_skip=False, what=None, environ_update=None):
        names = args_order.split() if isinstance(args_order, str) else list(args_order)
        unknown = [n for n in names if n not in self.arg_formats]
        if unknown:
            raise ValueError("%s runner has no option %s" % (self.name, ", ".join(unknown)))
        environ = dict(self.environ_update)
        environ.update(environ_update or {})
        return RunContext(self, names, check_rc, check_mode_skip, what, environ)


class RunContext:
    """One command of a runner; usable as ``with runner(...) as ctx: ctx.run(...)``."""

    def __init__(self, runner, names, check_rc, check_mode_skip, what, environ):
        self.runner = runner
        self.names = names
        self.check_rc = check_rc
        self.check_mode_skip = check_mode_skip
        self.what = what
        self.environ = environ
        self.result = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def argv(self, **values):
        extra = set(values) - set(self.names)
        if extra:
            raise ValueError("%s: values given for options not in this command: %s"
                             % (self.runner.name, ", ".join(sorted(extra))))
        argv = [self.runner.binary] + list(self.runner.base_args)
        for name in self.names:
            argv += self.runner.arg_formats[name](values.get(name))
        return argv

    def args(self, **values):
        """The argv after the program and its base arguments (for showing a planned command)."""
        return self.argv(**values)[1 + len(self.runner.base_args):]

    def run(self, data=None, cwd=None, **values):
        """The CommandResult, or None when check mode skips this command."""
        argv = self.argv(**values)
        if self.check_mode_skip and self.runner.module.check_mode:
            return None
        self.result = execute(self.runner.module, argv, check_rc=self.check_rc, what=self.what or self.runner.name,
                              lang=self.runner.lang, environ_update=self.environ, data=data, cwd=cwd)
        return self.result


# ---------------------------------------------------------------- one runner factory per tool

CONDA_DIRS = ("/usr/anaconda/bin", "/opt/conda/bin", "/opt/miniforge3/bin", "/opt/miniconda3/bin")


def conda_runner(module, executable=None):
    """conda (or mamba): ``executable`` when given, else ``conda`` on PATH or in CONDA_DIRS."""
    return CommandRunner(
        module, executable or "conda",
        arg_formats=dict(
            verb=fmt.as_list(),
            all=fmt.as_fixed("--all"),
            yes=fmt.as_fixed("--yes"),
            prefix=fmt.as_opt_val("-p"),
            override_channels=fmt.as_bool("--override-channels"),
            channels=fmt.as_opt_each("-c"),
            dry_run=fmt.as_bool("--dry-run"),
            specs=fmt.as_list(),
            json=fmt.as_fixed("--json"),
        ),
        extra_dirs=() if executable else CONDA_DIRS,
        what="executable" if executable else "conda",
        hint="install Anaconda/Miniforge first or set executable",
        # conda must never ask; --json alone does not stop every prompt.
        environ_update={"CONDA_ALWAYS_YES": "true"},
    )


# pip must not ask questions, and its version nag would pollute stderr.
PIP_ENV = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def pip_runner(module, python):
    """``python -m pip`` of one environment (a venv's or a conda env's own interpreter)."""
    return CommandRunner(
        module, python, base_args=("-m", "pip"),
        arg_formats=dict(
            list_json=fmt.as_fixed("list", "--format=json"),
            install=fmt.as_fixed("install"),
            index_url=fmt.as_opt_val("--index-url"),
            extra_index_urls=fmt.as_opt_each("--extra-index-url"),
            extra_args=fmt.as_list(),
            no_deps=fmt.as_bool("--no-deps"),
            specs=fmt.as_list(),
        ),
        what="pip",
        environ_update=PIP_ENV,
        # The interpreter is the environment's own, which may only appear once conda or venv has
        # built it (after this runner is made); run_command reports it if it never does.
        resolve=False,
    )


def env_python_runner(module, python):
    """An environment's own interpreter running a script (``python -c``)."""
    return CommandRunner(
        module, python,
        arg_formats=dict(installed=fmt.as_opt_val("-c")),
        what="python", environ_update=PIP_ENV, resolve=False,
    )


def python_runner(module, python, what="python"):
    """A base interpreter: its version, and ``-m venv``."""
    return CommandRunner(
        module, python,
        arg_formats=dict(
            version=fmt.as_fixed("-c", "import sys; print('%d.%d' % sys.version_info[:2])"),
            venv=fmt.as_fixed("-m", "venv"),
            system_site_packages=fmt.as_bool("--system-site-packages"),
            path=fmt.as_list(),
        ),
        what=what, hint="install it, or give a path",
    )


def hdfs_runner(module, command):
    """The Hadoop file-system shell: ``hdfs dfs``, or ``hadoop fs`` when given the hadoop client."""
    runner = CommandRunner(
        module, command, base_args=("dfs",),
        arg_formats=dict(
            op=fmt.as_list(),
            directory=fmt.as_bool("-d"),
            recursive=fmt.as_bool("-r"),
            parents=fmt.as_bool("-p"),
            force=fmt.as_bool("-f"),
            mode=fmt.as_list(),
            paths=fmt.as_list(),
        ),
        what="hdfs_command",
        hint="install the HDFS client (gateway role) or set hdfs_command to its full path",
        # Java takes its file-name encoding from the locale: plain C would mangle non-ASCII
        # paths, C.UTF-8 keeps the messages untranslated and the names intact.
        lang="C.UTF-8",
    )
    if os.path.basename(runner.binary) == "hadoop":
        runner.base_args = ["fs"]
    return runner


LDD_DIRS = ("/usr/bin", "/bin")


def ldd_runner(module):
    """glibc's ldd; its messages are gettext-translated, hence the forced C locale."""
    return CommandRunner(
        module, "ldd", arg_formats=dict(path=fmt.as_list()), extra_dirs=LDD_DIRS,
        what="ldd", hint="install libc-bin (Debian/Ubuntu) or glibc-common (RHEL)",
    )


SBIN_DIRS = ("/sbin", "/usr/sbin", "/usr/local/sbin")


def ldconfig_runner(module):
    """``ldconfig -p`` of one cache file, the fallback reader of the ld.so cache."""
    return CommandRunner(
        module, "ldconfig",
        arg_formats=dict(print_cache=fmt.as_fixed("-p"), cache=fmt.as_opt_val("-C")),
        extra_dirs=SBIN_DIRS, what="ldconfig",
    )
