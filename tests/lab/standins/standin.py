# TEST STAND-IN for the kubestrap lab, NOT Kubernetes.
#
# Shared code of the lab's stand-in kubeadm, kubelet and kubectl
# (tests/lab/standins/). Kubernetes' real packages cannot be had in the lab,
# so these python3 programs imitate the documented command-line contract of
# the real tools closely enough for kubestrap's integration tests. They are
# test doubles for the outside world and never part of kubestrap.
#
# What is here: the build facts baked in by build-debs.sh (version, commit),
# a small cobra/pflag-like command and flag parser (so unknown flags and
# subcommands fail the way the real Go programs fail), klog-style log lines,
# and a YAML-subset reader for the kubeadm/kubelet config files later stages
# need (python3 on the lab hosts has no PyYAML).
import json
import os
import re
import signal
import sys
import time

# Like a Go program: a closed stdout (`| head`) ends the process quietly.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

# ---------------------------------------------------------------- build facts
try:
    import standin_build as _build  # written by build-debs.sh
except ImportError:  # running from the source tree
    _build = None

VERSION = os.environ.get("STANDIN_VERSION_OVERRIDE") or getattr(_build, "VERSION", "1.31.4")
GIT_COMMIT = getattr(_build, "GIT_COMMIT", "0" * 40)
BUILD_DATE = getattr(_build, "BUILD_DATE", "2024-12-10T00:00:00Z")
GO_VERSION = getattr(_build, "GO_VERSION", "go1.22.9")


def semver(v):
    """(major, minor, patch) of "v1.31.4" / "1.31.4"; None when not a version."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.+-]*)?", v)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


MAJOR, MINOR, PATCH = semver(VERSION)
GIT_VERSION = "v" + VERSION


def version_info():
    """k8s.io/apimachinery/pkg/version.Info of this build, as the Go field order."""
    return {
        "major": str(MAJOR),
        "minor": str(MINOR),
        "gitVersion": GIT_VERSION,
        "gitCommit": GIT_COMMIT,
        "gitTreeState": "clean",
        "buildDate": BUILD_DATE,
        "goVersion": GO_VERSION,
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def go_struct(info):
    """version.Info printed with Go's %#v, as `kubeadm version` does."""
    names = ["Major", "Minor", "GitVersion", "GitCommit", "GitTreeState",
             "BuildDate", "GoVersion", "Compiler", "Platform"]
    body = ", ".join('%s:"%s"' % (n, info[n[0].lower() + n[1:]]) for n in names)
    return "&version.Info{%s}" % body


def to_json(obj, indent=2):
    return json.dumps(obj, indent=indent)


def to_yaml(obj, indent=0):
    """Minimal YAML writer for nested dicts/lists of strings (output only)."""
    pad = " " * indent
    out = []
    if isinstance(obj, dict):
        for k in sorted(obj):
            v = obj[k]
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, k))
                out.append(to_yaml(v, indent + 2 if isinstance(v, dict) else indent))
            else:
                out.append("%s%s: %s" % (pad, k, _yaml_scalar(v)))
    elif isinstance(obj, list):
        for v in obj:
            out.append("%s- %s" % (pad, _yaml_scalar(v)))
    return "\n".join(out)


def _yaml_scalar(v):
    if isinstance(v, (dict, list)):
        return "{}" if isinstance(v, dict) else "[]"
    s = str(v)
    if s == "" or re.fullmatch(r"[0-9.]+|true|false|null|yes|no|~|\d{4}-\d\d-\d\dT.*", s) or ": " in s or s[0] in "{[&*!|>'\"%@`#":
        return '"%s"' % s.replace('"', '\\"')
    return s


# ---------------------------------------------------------------- logging
def klog(severity, where, msg, stream=None):
    """One klog line: `E1210 12:00:00.000000    1234 run.go:72] msg`."""
    t = time.time()
    lt = time.localtime(t)
    line = "%s%s %s.%06d %7d %s] %s" % (
        severity, time.strftime("%m%d", lt), time.strftime("%H:%M:%S", lt),
        int((t % 1) * 1e6), os.getpid(), where, msg)
    print(line, file=stream or sys.stderr, flush=True)


# ---------------------------------------------------------------- commands and flags
class UsageError(Exception):
    """A command-line error; `cmd` is the command it happened in."""

    def __init__(self, msg, cmd=None):
        super().__init__(msg)
        self.cmd = cmd


class Flag:
    def __init__(self, name, kind="string", default=None, short=None, help=""):
        self.name, self.kind, self.short, self.help = name, kind, short, help
        if default is None:
            default = {"bool": False, "list": [], "int": 0}.get(kind, "")
        self.default = default


class Command:
    """A cobra-like command: flags (local + inherited persistent ones),
    subcommands, and a run(cmd, args, flags) function."""

    def __init__(self, name, run=None, flags=(), persistent=(), short="", args=None, aliases=()):
        self.name, self.run, self.short = name, run, short
        self.flags = {f.name: f for f in flags}
        self.persistent = {f.name: f for f in persistent}
        self.subs = {}
        self.parent = None
        self.args = args  # None: any; int n: exactly n; "none": no args
        self.aliases = aliases

    def add(self, *cmds):
        for c in cmds:
            c.parent = self
            self.subs[c.name] = c
            for a in c.aliases:
                self.subs[a] = c
        return self

    def path(self):
        return (self.parent.path() + " " if self.parent else "") + self.name

    def all_flags(self):
        fl = {}
        c = self
        while c:
            fl.update({k: v for k, v in c.persistent.items() if k not in fl})
            c = c.parent
        fl.update(self.flags)
        fl.setdefault("help", Flag("help", "bool", short="h"))
        return fl


def _flag_value(f, raw):
    if f.kind == "bool":
        if raw in ("true", "1", "t", "T", "TRUE", "True"):
            return True
        if raw in ("false", "0", "f", "F", "FALSE", "False"):
            return False
        raise UsageError('invalid argument "%s" for "--%s" flag: strconv.ParseBool: parsing "%s": invalid syntax' % (raw, f.name, raw))
    if f.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise UsageError('invalid argument "%s" for "--%s" flag: strconv.ParseInt: parsing "%s": invalid syntax' % (raw, f.name, raw))
    return raw


def parse(root, argv):
    """Walks subcommands, then parses flags pflag-style (interspersed).
    Returns (command, positional args, {flag name: value})."""
    cmd = root
    rest = list(argv)
    # Find the subcommand path: the leading non-flag words naming subcommands.
    # (cobra finds them among flags too; kubestrap always puts them first.)
    while rest and cmd.subs and not rest[0].startswith("-"):
        word = rest[0]
        if word in cmd.subs:
            cmd = cmd.subs[word]
            rest.pop(0)
        elif cmd.run is None:
            raise UsageError('unknown command "%s" for "%s"' % (word, cmd.path()), cmd)
        else:
            break
    flags = cmd.all_flags()
    shorts = {f.short: f for f in flags.values() if f.short}
    values = {name: (list(f.default) if f.kind == "list" else f.default) for name, f in flags.items()}
    args = []
    i = 0
    while i < len(rest):
        a = rest[i]
        i += 1
        if a == "--":
            args.extend(rest[i:])
            break
        if a.startswith("--"):
            name, eq, raw = a[2:].partition("=")
            f = flags.get(name)
            if f is None:
                raise UsageError("unknown flag: --%s" % name, cmd)
        elif a.startswith("-") and len(a) > 1:
            f = shorts.get(a[1])
            if f is None:
                raise UsageError("unknown shorthand flag: '%s' in %s" % (a[1], a), cmd)
            eq, raw = ("=", a[2:].lstrip("=")) if len(a) > 2 else ("", "")
        else:
            args.append(a)
            continue
        if not eq:
            if f.kind == "bool":
                raw = "true"
            elif i < len(rest):
                raw = rest[i]
                i += 1
            else:
                raise UsageError("flag needs an argument: --%s" % f.name, cmd)
        v = _flag_value(f, raw)
        if f.kind == "list":
            values[f.name].extend(x for x in raw.split(",") if x)
        else:
            values[f.name] = v
    return cmd, args, values


def help_text(cmd):
    lines = []
    if cmd.short:
        lines += [cmd.short, ""]
    lines.append("Usage:")
    lines.append("  %s%s [flags]" % (cmd.path(), " [command]" if cmd.subs else ""))
    if cmd.subs:
        lines += ["", "Available Commands:"]
        for name, c in sorted(cmd.subs.items()):
            if name == c.name:
                lines.append("  %-12s %s" % (name, c.short))
    lines += ["", "Flags:"]
    for f in sorted(cmd.all_flags().values(), key=lambda f: f.name):
        lines.append("  %s--%s %s" % ("-%s, " % f.short if f.short else "    ", f.name, f.help))
    lines += ["", "(TEST STAND-IN for the kubestrap lab, not Kubernetes)"]
    return "\n".join(lines)


# ---------------------------------------------------------------- YAML subset
class YAMLError(Exception):
    pass


def _scalar(s):
    s = s.strip()
    if not s or s == "~" or s == "null":
        return None
    if s[0] == '"':
        try:
            return json.loads(s)
        except ValueError:
            raise YAMLError("bad double-quoted scalar: %s" % s)
    if s[0] == "'":
        if not s.endswith("'"):
            raise YAMLError("bad single-quoted scalar: %s" % s)
        return s[1:-1].replace("''", "'")
    if s[0] in "[{":
        return _flow(s)
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if re.fullmatch(r"[-+]?[0-9]+", s):
        return int(s)
    if re.fullmatch(r"[-+]?([0-9]*\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?", s):
        return float(s)
    return s


def _split_flow(body):
    parts, depth, cur, quote = [], 0, "", None
    for ch in body:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch in "[{":
            depth += 1
            cur += ch
        elif ch in "]}":
            depth -= 1
            cur += ch
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def _flow(s):
    if s[0] == "[":
        if not s.endswith("]"):
            raise YAMLError("unterminated flow sequence: %s" % s)
        return [_scalar(p) for p in _split_flow(s[1:-1])]
    if not s.endswith("}"):
        raise YAMLError("unterminated flow mapping: %s" % s)
    out = {}
    for p in _split_flow(s[1:-1]):
        k, sep, v = p.partition(":")
        if not sep:
            raise YAMLError("bad flow mapping entry: %s" % p)
        out[_scalar(k)] = _scalar(v)
    return out


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def load_yaml_all(text):
    """The documents of a YAML stream, for the block-style subset config
    files use: mappings, sequences, plain/quoted scalars, flow [..]/{..},
    literal blocks (| and >). Raises YAMLError on anything else."""
    docs, cur = [], []
    for raw in text.splitlines():
        if raw.startswith("---"):
            docs.append(cur)
            cur = []
            continue
        if raw.startswith("..."):
            continue
        cur.append(raw)
    docs.append(cur)
    out = []
    for lines in docs:
        items = []
        block = None
        for raw in lines:
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise YAMLError("tabs are not allowed for indentation")
            if block is not None:
                ind = len(raw) - len(raw.lstrip())
                if not raw.strip() or ind > block[0]:
                    block[1].append(raw)
                    continue
                items.append((block[0] + 1, "\0block", block))
                block = None
            line = _strip_comment(raw)
            if not line.strip():
                continue
            ind = len(line) - len(line.lstrip())
            items.append((ind, line.strip(), None))
            if re.search(r"(:|^-)\s+[|>][-+]?$", line.strip()) or re.fullmatch(r"-?\s*[|>][-+]?", line.strip()):
                block = [ind, []]
        if block is not None:
            items.append((block[0] + 1, "\0block", block))
        if not items:
            continue
        val, pos = _node(items, 0, items[0][0])
        if pos != len(items):
            raise YAMLError("unexpected content: %s" % items[pos][1])
        out.append(val)
    return out


def _block_text(block, style):
    lines = [l for l in block[1]]
    while lines and not lines[-1].strip():
        lines.pop()
    ind = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
    body = [l[ind:] for l in lines]
    text = "\n".join(body) if style.startswith("|") else " ".join(x.strip() for x in body)
    return text if style.endswith("-") else text + "\n"


def _value_after(items, pos, ind, rest):
    """The value of `key: rest` / `- rest` whose line is items[pos-1]."""
    if rest and rest[0] in "|>":
        if pos < len(items) and items[pos][1] == "\0block":
            return _block_text(items[pos][2], rest), pos + 1
        return "", pos
    if rest:
        return _scalar(rest), pos
    if pos < len(items) and items[pos][0] > ind:
        return _node(items, pos, items[pos][0])
    if pos < len(items) and items[pos][0] == ind and items[pos][1].startswith("- "):
        return _node(items, pos, ind)  # sequence at the key's own indent
    return None, pos


def _node(items, pos, ind):
    if items[pos][1].startswith("- ") or items[pos][1] == "-":
        seq = []
        while pos < len(items) and items[pos][0] == ind and (items[pos][1].startswith("- ") or items[pos][1] == "-"):
            rest = items[pos][1][1:].strip()
            m = re.match(r"^([^\"'{\[][^:]*?|\"[^\"]*\"|'[^']*'):(\s+|$)(.*)$", rest)
            if m and not rest.startswith(("[", "{")):
                # "- key: value" starts a mapping at ind + 2
                sub_ind = ind + 2
                items[pos] = (sub_ind, rest, None)
                val, pos = _node(items, pos, sub_ind)
                seq.append(val)
            else:
                pos += 1
                val, pos = _value_after(items, pos, ind, rest)
                seq.append(val)
        return seq, pos
    mp = {}
    while pos < len(items) and items[pos][0] == ind:
        line = items[pos][1]
        if line.startswith("- "):
            break
        m = re.match(r"^(\"[^\"]*\"|'[^']*'|[^:]+?):(\s+(.*))?$", line)
        if not m:
            raise YAMLError("expected 'key: value', got: %s" % line)
        key = _scalar(m.group(1))
        pos += 1
        mp[key], pos = _value_after(items, pos, ind, (m.group(3) or "").strip())
    if pos < len(items) and items[pos][0] > ind:
        raise YAMLError("bad indentation at: %s" % items[pos][1])
    return mp, pos
