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
# Enough YAML for kubeadm/kubelet configs, kubeconfigs and Kubernetes
# manifests such as Calico's (block mappings and sequences, plain / quoted /
# multi-line scalars, literal and folded blocks, flow [..] {..}, JSON
# documents, several documents per stream). Anchors, aliases, tags and
# complex keys are refused with a YAMLError instead of being misread.
class YAMLError(Exception):
    pass


_KEY_RE = re.compile(r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'\[\]{}#&*!|>%@`,?][^#]*?|[-?:][^\s#][^#]*?)\s*:(?:[ \t]+(.*))?$""")


def _scalar(s):
    s = s.strip()
    if not s or s == "~" or s in ("null", "Null", "NULL"):
        return None
    if s[0] == '"':
        if not _quote_closed(s):
            raise YAMLError("found unexpected end of stream in a double-quoted scalar: %s" % s)
        body = s[1:_quote_end(s)]
        try:
            return json.loads('"%s"' % body.replace("\\/", "/").replace("\\'", "'").replace("\t", "\\t"))
        except ValueError:
            raise YAMLError("bad double-quoted scalar: %s" % s)
    if s[0] == "'":
        if not _quote_closed(s):
            raise YAMLError("bad single-quoted scalar: %s" % s)
        return s[1:_quote_end(s)].replace("''", "'")
    if s[0] in "[{":
        return _flow(s)
    if s[0] in "&*!":
        raise YAMLError("anchors, aliases and tags are not supported by the lab's stand-in YAML reader: %s" % s)
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    if re.fullmatch(r"[-+]?[0-9]+", s) and not re.fullmatch(r"[-+]?0[0-9]+", s):
        return int(s)
    if re.fullmatch(r"0o[0-7]+", s):
        return int(s[2:], 8)
    if re.fullmatch(r"0x[0-9a-fA-F]+", s):
        return int(s[2:], 16)
    if re.fullmatch(r"[-+]?([0-9]*\.[0-9]+|[0-9]+\.[0-9]*|[0-9]+)([eE][-+]?[0-9]+)?", s):
        return float(s)
    return s


def _quote_end(s):
    """Index of the quote closing the quoted scalar s[0..], or -1."""
    q = s[0]
    i = 1
    while i < len(s):
        c = s[i]
        if q == '"' and c == "\\":
            i += 2
            continue
        if c == q:
            if q == "'" and i + 1 < len(s) and s[i + 1] == "'":
                i += 2
                continue
            return i
        i += 1
    return -1


def _quote_closed(s):
    e = _quote_end(s)
    return e > 0 and not s[e + 1:].strip()


def _flow_balanced(s):
    depth, quote, i = 0, None, 0
    while i < len(s):
        c = s[i]
        if quote:
            if quote == '"' and c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth <= 0 and quote is None


def _split_flow(body):
    parts, depth, cur, quote = [], 0, "", None
    i = 0
    while i < len(body):
        ch = body[i]
        if quote:
            cur += ch
            if quote == '"' and ch == "\\" and i + 1 < len(body):
                cur += body[i + 1]
                i += 1
            elif ch == quote:
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
        i += 1
    if cur.strip():
        parts.append(cur)
    return parts


def _flow(s):
    s = s.strip()
    if s[0] == "[":
        if not s.endswith("]") or not _flow_balanced(s):
            raise YAMLError("did not find expected ',' or ']': %s" % s)
        return [_scalar(p) for p in _split_flow(s[1:-1])]
    if not s.endswith("}") or not _flow_balanced(s):
        raise YAMLError("did not find expected ',' or '}': %s" % s)
    out = {}
    for p in _split_flow(s[1:-1]):
        p = p.strip()
        if p[:1] in "\"'":
            e = _quote_end(p)
            k, rest = p[:e + 1], p[e + 1:].strip()
            if not rest.startswith(":"):
                raise YAMLError("bad flow mapping entry: %s" % p)
            v = rest[1:]
        else:
            m = re.match(r"^(.*?):(?:\s+|$)(.*)$", p, re.S)
            if not m:
                raise YAMLError("bad flow mapping entry: %s" % p)
            k, v = m.group(1), m.group(2)
        out[_scalar(k)] = _scalar(v)
    return out


def _strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'" and (i == 0 or line[i - 1] in " \t-:[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _is_seq(text):
    return text == "-" or text.startswith("- ")


class _Reader:
    def __init__(self, lines):
        self.lines = lines
        self.i = 0

    def peek(self):
        """(indent, text) of the next line with content, comments stripped."""
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            s = _strip_comment(raw)
            if s.strip():
                lead = s[: len(s) - len(s.lstrip())]
                if "\t" in lead:
                    raise YAMLError("found character that cannot start any token (a tab in the indentation): %r" % raw)
                return len(lead), s.strip()
            self.i += 1
        return None

    def node(self):
        ind, text = self.peek()
        if _is_seq(text):
            return self.seq(ind)
        if _KEY_RE.match(text):
            return self.mapping(ind)
        self.i += 1
        return self.value(text, ind - 1)

    def seq(self, ind):
        out = []
        while True:
            p = self.peek()
            if not p or p[0] != ind or not _is_seq(p[1]):
                break
            rest = p[1][1:].lstrip()
            col = ind + len(p[1]) - len(rest)
            if rest and (_KEY_RE.match(rest) or _is_seq(rest)) and rest[0] not in "[{":
                self.lines[self.i] = " " * col + rest  # "- key: v" opens a mapping at col
                out.append(self.node())
                continue
            self.i += 1
            if rest:
                out.append(self.value(rest, ind))
            else:
                q = self.peek()
                out.append(self.node() if q and q[0] > ind else None)
        return out

    def mapping(self, ind):
        out = {}
        while True:
            p = self.peek()
            if not p or p[0] != ind or _is_seq(p[1]):
                break
            m = _KEY_RE.match(p[1])
            if not m:
                raise YAMLError("could not find expected ':' in line %d: %s" % (self.i + 1, p[1]))
            key = _scalar(m.group(1))
            if key == "<<":
                raise YAMLError("merge keys are not supported by the lab's stand-in YAML reader")
            if isinstance(key, (dict, list)):
                raise YAMLError("complex keys are not supported: %s" % p[1])
            if key in out:
                raise YAMLError('mapping key "%s" already defined' % key)
            self.i += 1
            rest = (m.group(2) or "").strip()
            if rest:
                out[key] = self.value(rest, ind)
                continue
            q = self.peek()
            if q and q[0] > ind:
                out[key] = self.node()
            elif q and q[0] == ind and _is_seq(q[1]):
                out[key] = self.seq(ind)
            else:
                out[key] = None
        p = self.peek()
        if p and p[0] > ind:
            raise YAMLError("mapping values are not allowed in this context (bad indentation) at line %d: %s" % (self.i + 1, p[1]))
        return out

    def value(self, rest, parent):
        """The scalar/flow/block value `rest` of a line whose node sits at
        indent `parent`, with any continuation lines (more indented)."""
        if rest[0] in "|>" and re.fullmatch(r"[|>][-+]?[0-9]?", rest):
            return self.block(rest, parent)
        if rest[0] in "&*!":
            raise YAMLError("anchors, aliases and tags are not supported by the lab's stand-in YAML reader: %s" % rest)
        if rest[0] in "\"'":
            while _quote_end(rest) < 0 and self.i < len(self.lines):
                nxt = self.lines[self.i].strip()
                self.i += 1
                if not nxt:
                    rest += "\\n" if rest[0] == '"' else "\n"
                else:
                    rest += ("" if rest.endswith(("\\n", "\n")) else " ") + nxt
            if not _quote_closed(rest):
                raise YAMLError("did not find expected key after quoted scalar: %s" % rest)
            return _scalar(rest)
        if rest[0] in "[{":
            while not _flow_balanced(rest) and self.i < len(self.lines):
                rest += " " + _strip_comment(self.lines[self.i]).strip()
                self.i += 1
            return _flow(rest)
        parts = [rest]
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            s = _strip_comment(raw)
            if not s.strip():
                # blank lines inside a multi-line plain scalar are newlines
                j = self.i + 1
                while j < len(self.lines) and not _strip_comment(self.lines[j]).strip():
                    j += 1
                if j < len(self.lines) and not raw.strip() and \
                        len(self.lines[j]) - len(self.lines[j].lstrip()) > parent:
                    parts.append("\n")
                    self.i += 1
                    continue
                break
            ind = len(s) - len(s.lstrip())
            if ind <= parent:
                break
            if raw.lstrip().startswith("#"):
                break
            parts.append(s.strip())
            self.i += 1
        if len(parts) == 1:
            return _scalar(rest)
        text = ""
        for part in parts:
            if part == "\n":
                text += "\n"
            elif text and not text.endswith("\n"):
                text += " " + part
            else:
                text += part
        return text

    def block(self, header, parent):
        style, chomp = header[0], ("-" if "-" in header else "+" if "+" in header else "")
        body = []
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            if raw.strip() and len(raw) - len(raw.lstrip()) <= parent:
                break
            body.append(raw)
            self.i += 1
        trailing = 0
        while body and not body[-1].strip():
            body.pop()
            trailing += 1
        ind = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
        lines = [x[ind:] for x in body]
        if style == "|":
            text = "\n".join(lines)
        else:
            text, prev_blank = "", True
            for x in lines:
                if not x.strip():
                    text += "\n"
                    prev_blank = True
                elif x.startswith(" "):
                    text += ("\n" if text and not text.endswith("\n") else "") + x
                    prev_blank = True
                else:
                    text += ("" if prev_blank else " ") + x
                    prev_blank = False
        if not body:
            return ""
        if chomp == "-":
            return text
        if chomp == "+":
            return text + "\n" * (1 + trailing)
        return text + "\n"


def load_yaml_all(text):
    """The documents of a YAML stream (see above). Raises YAMLError."""
    if text.startswith("\ufeff"):
        text = text[1:]
    stripped = text.strip()
    if stripped[:1] in "{[":
        try:
            return [json.loads(stripped)]
        except ValueError:
            pass
    docs, cur = [], []
    for raw in text.splitlines():
        if raw == "---" or raw.startswith("--- ") or raw.startswith("---\t"):
            docs.append(cur)
            tail = raw[3:].strip()
            cur = [tail] if tail and not tail.startswith("#") else []
            continue
        if raw == "..." or raw.startswith("... "):
            continue
        if raw.startswith("%"):
            continue
        cur.append(raw)
    docs.append(cur)
    out = []
    for lines in docs:
        r = _Reader(lines)
        if r.peek() is None:
            continue
        val = r.node()
        if r.peek() is not None:
            raise YAMLError("did not find expected <document start> at line %d: %s" % (r.i + 1, r.peek()[1]))
        out.append(val)
    return out


def _needs_quotes(s):
    if s == "" or s != s.strip() or "\n" in s:
        return True
    if re.fullmatch(r"(?i)(true|false|yes|no|on|off|null|~|y|n)", s):
        return True
    if re.fullmatch(r"[-+]?(\.?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)", s):
        return True
    if re.fullmatch(r"\d{4}-\d\d?-\d\d?([Tt ].*)?", s):  # a YAML 1.1 timestamp (kubectl quotes them)
        return True
    if s[0] in "-?:,[]{}#&*!|>'\"%@`" and not (s[0] == "-" and len(s) > 1 and s[1] not in " "):
        return True
    return ": " in s or " #" in s or s.endswith(":") or "\t" in s or s.startswith("- ")


def yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = str(v)
    return json.dumps(s) if _needs_quotes(s) else s


def dump_yaml(obj, indent=0, sort=True):
    """YAML text of nested dicts/lists/scalars (block style, keys sorted as
    kubectl prints them unless sort=False); multi-line strings as | blocks."""
    return "\n".join(_dump(obj, indent, sort)) + "\n"


def _dump(obj, ind, sort):
    pad = " " * ind
    out = []
    if isinstance(obj, dict):
        if not obj:
            return [pad + "{}"]
        for k in (sorted(obj, key=str) if sort else obj):
            v = obj[k]
            key = yaml_scalar(k) if not isinstance(k, str) or _needs_quotes(k) else k
            if isinstance(v, dict) and v:
                out.append("%s%s:" % (pad, key))
                out += _dump(v, ind + 2, sort)
            elif isinstance(v, list) and v:
                out.append("%s%s:" % (pad, key))
                out += _dump(v, ind, sort)
            elif isinstance(v, str) and "\n" in v and v.strip():
                out.append("%s%s: %s" % (pad, key, _block_header(v)))
                out += [(pad + "  " + x) if x else "" for x in v[:-1 if v.endswith("\n") else None].split("\n")]
            else:
                out.append("%s%s: %s" % (pad, key, "{}" if v == {} else "[]" if v == [] else yaml_scalar(v)))
    elif isinstance(obj, list):
        if not obj:
            return [pad + "[]"]
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                sub = _dump(v, ind + 2, sort)
                out.append(pad + "- " + sub[0][ind + 2:])
                out += sub[1:]
            elif isinstance(v, str) and "\n" in v and v.strip():
                out.append(pad + "- " + _block_header(v))
                out += [(pad + "  " + x) if x else "" for x in v[:-1 if v.endswith("\n") else None].split("\n")]
            else:
                out.append(pad + "- " + ("{}" if v == {} else "[]" if v == [] else yaml_scalar(v)))
    else:
        out.append(pad + yaml_scalar(obj))
    return out


def _block_header(v):
    if v.endswith("\n\n"):
        return "|+"  # rare; keeps trailing newlines
    return "|" if v.endswith("\n") else "|-"


# ---------------------------------------------------------------- durations, tokens
def parse_duration(v):
    """Seconds of a Go duration ("24h0m0s", "1h30m", "90s", "0"); None if invalid."""
    if isinstance(v, (int, float)):
        return None
    v = str(v).strip()
    if v in ("0", ""):
        return 0.0 if v == "0" else None
    m = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?", v)
    if not m or not any(m.groups()):
        return None
    h, mi, se, ms = (float(x or 0) for x in m.groups())
    return h * 3600 + mi * 60 + se + ms / 1000


def go_duration(sec):
    """Go's Duration.String() for whole seconds: 24h0m0s, 5m0s, 40s."""
    sec = int(round(sec))
    if sec == 0:
        return "0s"
    h, rem = divmod(sec, 3600)
    m, se = divmod(rem, 60)
    if h:
        return "%dh%dm%ds" % (h, m, se)
    if m:
        return "%dm%ds" % (m, se)
    return "%ds" % se


def short_human_duration(sec):
    """apimachinery's duration.ShortHumanDuration: 59s, 5m, 23h, 364d, 9y; "0s"
    just past zero, "<invalid>" below -1 s."""
    sec = int(sec)
    if sec < -1:
        return "<invalid>"
    if sec < 0:
        return "0s"
    if sec < 60:
        return "%ds" % sec
    if sec < 3600:
        return "%dm" % (sec // 60)
    hours = sec // 3600
    if hours < 24:
        return "%dh" % hours
    if hours < 24 * 365:
        return "%dd" % (hours // 24)
    return "%dy" % int(sec / 3600 / 24 / 365)


def tabwrite(lines, minwidth=10, padding=3):
    """Go's text/tabwriter (tabwidth 4, padchar ' ', no flags) over lines of
    tab-separated cells: a cell ended by a tab is padded to its column's
    width (widest cell + padding, at least minwidth) across the run of
    adjacent lines that have that column; a line's last cell is printed as is."""
    rows = [line.split("\t") for line in lines]
    widths = [[0] * (len(r) - 1) for r in rows]
    col = 0
    while True:
        have = [i for i, r in enumerate(rows) if len(r) - 1 > col]
        if not have:
            break
        run = []
        for i in range(len(rows) + 1):
            if i < len(rows) and len(rows[i]) - 1 > col:
                run.append(i)
                continue
            if run:
                w = max([minwidth] + [len(rows[j][col]) + padding for j in run])
                for j in run:
                    widths[j][col] = w
                run = []
        col += 1
    return ["".join(c.ljust(widths[i][k]) for k, c in enumerate(r[:-1])) + r[-1] for i, r in enumerate(rows)]


TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
TOKEN_RE_TEXT = r"^([a-z0-9]{6})\.([a-z0-9]{16})$"


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_rfc3339(v):
    import calendar
    try:
        return calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- crypto (openssl CLI + hashlib/hmac)
# Keys and certificates are made with the openssl command line. Private keys
# only ever travel through files (0600) or stdin, never through argv.
import base64  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402


class CryptoError(Exception):
    pass


def openssl(*args, stdin=None):
    p = subprocess.run(["openssl"] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise CryptoError("openssl %s: %s" % (args[0], p.stderr.decode(errors="replace").strip()))
    return p.stdout


def write_private(path, data, mode=0o600):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp%d" % os.getpid()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def gen_key(path):
    """An RSA 2048 key (kubeadm's default encryptionAlgorithm RSA-2048), 0600."""
    pem = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    write_private(path, pem)
    return pem


def _ext_file(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".ext", delete=False)
    f.write("\n".join(lines) + "\n")
    f.close()
    return f.name


def make_ca(cert, key, cn, days=3650):
    gen_key(key)
    ext = _ext_file(["[v3]", "basicConstraints=critical,CA:TRUE", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
                     "subjectKeyIdentifier=hash"])
    try:
        pem = openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=%s" % cn, "-days", str(days),
                      "-config", ext, "-extensions", "v3", "-sha256")
    finally:
        os.unlink(ext)
    write_private(cert, pem, 0o644)


def subject_arg(cn, orgs=()):
    return "".join("/O=%s" % o for o in orgs) + "/CN=%s" % cn


def make_csr(key, cn, orgs=()):
    return openssl("req", "-new", "-key", key, "-subj", subject_arg(cn, orgs))


def sign_csr(csr_pem, ca_cert, ca_key, usage="client", dns=(), ips=(), days=365):
    """Signs a CSR with the CA (files); returns the certificate PEM."""
    lines = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
             "extendedKeyUsage=%s" % {"client": "clientAuth", "server": "serverAuth",
                                      "both": "serverAuth,clientAuth"}[usage]]
    sans = ["DNS:%s" % d for d in dns] + ["IP:%s" % i for i in ips]
    if sans:
        lines.append("subjectAltName=" + ",".join(sans))
    ext = _ext_file(lines)
    try:
        return openssl("x509", "-req", "-CA", ca_cert, "-CAkey", ca_key, "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
                       "-days", str(days), "-extfile", ext, "-sha256", stdin=csr_pem if isinstance(csr_pem, bytes) else csr_pem.encode())
    finally:
        os.unlink(ext)


def make_cert(cert, key, ca_cert, ca_key, cn, orgs=(), usage="client", dns=(), ips=()):
    gen_key(key)
    pem = sign_csr(make_csr(key, cn, orgs), ca_cert, ca_key, usage, dns, ips)
    write_private(cert, pem, 0o644)
    return pem


def csr_subject(csr_pem):
    """(CN, [O...]) of a PEM CSR."""
    out = openssl("req", "-noout", "-subject", "-nameopt", "RFC2253", stdin=csr_pem.encode() if isinstance(csr_pem, str) else csr_pem).decode()
    subj = out.strip().split("=", 1)[1] if out.startswith("subject=") else out.strip()
    cn, orgs = None, []
    for part in re.split(r"(?<!\\),", subj):
        k, _, v = part.strip().partition("=")
        if k == "CN":
            cn = v
        elif k == "O":
            orgs.append(v)
    return cn, orgs


def cert_info(pem):
    """What a renewal keeps and a check reads of a PEM certificate: {"cn",
    "orgs", "dns", "ips", "usage" ("client"|"server"|"both"|None), "ca",
    "not_after" (epoch seconds)}."""
    import calendar
    data = pem.encode() if isinstance(pem, str) else pem
    out = openssl("x509", "-noout", "-subject", "-nameopt", "RFC2253", "-enddate", "-ext",
                  "subjectAltName,extendedKeyUsage,basicConstraints", stdin=data).decode()
    info = {"cn": None, "orgs": [], "dns": [], "ips": [], "usage": None, "ca": False, "not_after": None}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("subject="):
            for part in re.split(r"(?<!\\),", line[len("subject="):].strip()):
                k, _, v = part.strip().partition("=")
                if k == "CN":
                    info["cn"] = v
                elif k == "O":
                    info["orgs"].append(v)
        elif line.startswith("notAfter="):
            info["not_after"] = calendar.timegm(time.strptime(" ".join(line[len("notAfter="):].split()), "%b %d %H:%M:%S %Y GMT"))
        elif "Subject Alternative Name" in line and i + 1 < len(lines):
            for san in lines[i + 1].split(","):
                k, _, v = san.strip().partition(":")
                if k == "DNS":
                    info["dns"].append(v)
                elif k == "IP Address":
                    info["ips"].append(v)
        elif "Extended Key Usage" in line and i + 1 < len(lines):
            u = lines[i + 1]
            server, client = "Server Authentication" in u, "Client Authentication" in u
            info["usage"] = "both" if server and client else "server" if server else "client" if client else None
        elif "CA:TRUE" in line:
            info["ca"] = True
    info["orgs"].reverse()  # RFC 2253 lists the last RDN first
    # openssl prints IPv6 SANs expanded (0:0:0:0:0:0:0:1); keep them as written
    import ipaddress
    info["ips"] = [str(ipaddress.ip_address(a)) for a in info["ips"]]
    return info


def pubkey_pin(cert_pem):
    """"sha256:<hex>" over the DER SubjectPublicKeyInfo, as kubeadm's pubkeypin."""
    pub = openssl("x509", "-noout", "-pubkey", stdin=cert_pem.encode() if isinstance(cert_pem, str) else cert_pem)
    der = openssl("pkey", "-pubin", "-outform", "der", stdin=pub)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def cert_pem_ok(pem):
    try:
        openssl("x509", "-noout", stdin=pem.encode() if isinstance(pem, str) else pem)
        return True
    except CryptoError:
        return False


def b64url(b):
    return base64.urlsafe_b64encode(b if isinstance(b, bytes) else b.encode()).rstrip(b"=").decode()


def jws_detached(content, token_id, token_secret):
    """Detached JWS (HS256, kid = token id, key = token secret) over content,
    "header..signature", as the bootstrap signer puts in cluster-info."""
    header = b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")))
    signing_input = header + "." + b64url(content)
    sig = hmac.new(token_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return header + ".." + b64url(sig)


def jws_valid(detached, content, token_id, token_secret):
    try:
        header = json.loads(base64.urlsafe_b64decode(detached.split(".")[0] + "=="))
    except (ValueError, IndexError):
        return False
    if header.get("kid") != token_id:
        return False
    return hmac.compare_digest(detached, jws_detached(content, token_id, token_secret))


def seal(key, data):
    """Authenticated encryption with the 32-byte certificate key (stand-in for
    kubeadm's AES-GCM): HMAC-SHA256 keystream + HMAC-SHA256 tag."""
    nonce = os.urandom(16)
    ct = _xor_stream(key, nonce, data)
    tag = hmac.new(hmac.new(key, b"mac", hashlib.sha256).digest(), nonce + ct, hashlib.sha256).digest()
    return nonce + ct + tag


def unseal(key, blob):
    nonce, ct, tag = blob[:16], blob[16:-32], blob[-32:]
    want = hmac.new(hmac.new(key, b"mac", hashlib.sha256).digest(), nonce + ct, hashlib.sha256).digest()
    if len(blob) < 48 or not hmac.compare_digest(tag, want):
        raise CryptoError("cipher: message authentication failed")
    return _xor_stream(key, nonce, ct)


def _xor_stream(key, nonce, data):
    k = hmac.new(key, b"enc", hashlib.sha256).digest()
    out = bytearray()
    for i in range(0, len(data), 32):
        block = hmac.new(k, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest()
        out += bytes(a ^ b for a, b in zip(data[i:i + 32], block))
    return bytes(out)


# ---------------------------------------------------------------- kubeconfig and API client
def b64(b):
    return base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()


def unb64(s):
    return base64.b64decode(s)


def kubeconfig(server, cluster, user, ca_pem, cert_pem=None, key_pem=None, token=None, cert_file=None, key_file=None):
    u = {}
    if cert_pem:
        u["client-certificate-data"] = b64(cert_pem)
        u["client-key-data"] = b64(key_pem)
    if cert_file:
        u["client-certificate"] = cert_file
        u["client-key"] = key_file
    if token:
        u["token"] = token
    ctx = "%s@%s" % (user, cluster)
    doc = {"apiVersion": "v1",
           "clusters": [{"cluster": {"certificate-authority-data": b64(ca_pem), "server": server}, "name": cluster}],
           "contexts": [{"context": {"cluster": cluster, "user": user}, "name": ctx}],
           "current-context": ctx, "kind": "Config", "preferences": {},
           "users": [{"name": user, "user": u}]}
    return dump_yaml(doc)


class APIError(Exception):
    def __init__(self, code, status, msg):
        super().__init__(msg)
        self.code, self.status = code, status


class Client:
    """A small HTTPS client of the (stand-in) Kubernetes API."""

    def __init__(self, server, ca_pem=None, insecure=False, cert_pem=None, key_pem=None,
                 cert_file=None, key_file=None, token=None, timeout=10):
        import ssl
        import urllib.parse
        u = urllib.parse.urlsplit(server)
        if u.scheme != "https" or not u.hostname:
            raise APIError(0, None, 'invalid server URL "%s"' % server)
        self.server, self.host, self.port = server, u.hostname, u.port or 443
        self.token, self.timeout = token, timeout
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx.load_verify_locations(cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem)
        if cert_pem:
            d = tempfile.mkdtemp(prefix="standin-client-")
            try:
                write_private(os.path.join(d, "c"), cert_pem)
                write_private(os.path.join(d, "k"), key_pem)
                ctx.load_cert_chain(os.path.join(d, "c"), os.path.join(d, "k"))
            finally:
                for n in ("c", "k"):
                    try:
                        os.unlink(os.path.join(d, n))
                    except OSError:
                        pass
                os.rmdir(d)
        elif cert_file:
            ctx.load_cert_chain(cert_file, key_file or cert_file)
        self.ctx = ctx

    @classmethod
    def from_kubeconfig(cls, path, timeout=10):
        with open(path) as f:
            docs = load_yaml_all(f.read())
        kc = docs[0] if docs and isinstance(docs[0], dict) else {}
        return cls.from_kubeconfig_doc(kc, timeout, os.path.dirname(path))

    @classmethod
    def from_kubeconfig_doc(cls, kc, timeout=10, base="."):
        ctxname = kc.get("current-context")
        ctx = next((c.get("context") or {} for c in kc.get("contexts") or [] if c.get("name") == ctxname), None)
        if ctx is None:
            raise APIError(0, None, "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable")
        cl = next((c.get("cluster") or {} for c in kc.get("clusters") or [] if c.get("name") == ctx.get("cluster")), {})
        us = next((u.get("user") or {} for u in kc.get("users") or [] if u.get("name") == ctx.get("user")), {})
        ca = unb64(cl["certificate-authority-data"]).decode() if cl.get("certificate-authority-data") else None
        if ca is None and cl.get("certificate-authority"):
            with open(os.path.join(base, cl["certificate-authority"])) as f:
                ca = f.read()
        kw = {}
        if us.get("client-certificate-data"):
            kw = {"cert_pem": unb64(us["client-certificate-data"]), "key_pem": unb64(us["client-key-data"])}
        elif us.get("client-certificate"):
            kw = {"cert_file": os.path.join(base, us["client-certificate"]),
                  "key_file": os.path.join(base, us.get("client-key") or us["client-certificate"])}
        return cls(cl.get("server", ""), ca_pem=ca, insecure=bool(cl.get("insecure-skip-tls-verify")),
                   token=us.get("token"), timeout=timeout, **kw)

    def request(self, method, path, body=None, ok404=False):
        import http.client
        import socket
        import ssl
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=self.timeout)
        headers = {"Accept": "application/json", "User-Agent": "kubestrap-lab-standin/" + GIT_VERSION}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except ssl.SSLCertVerificationError as e:
            raise APIError(0, None, 'Get "%s%s": tls: failed to verify certificate: %s' % (self.server, path, e.verify_message))
        except (OSError, socket.timeout, http.client.HTTPException) as e:
            reason = "connect: connection refused" if isinstance(e, ConnectionRefusedError) else \
                "i/o timeout" if isinstance(e, socket.timeout) else str(e)
            raise APIError(0, None, '%s "%s%s": dial tcp %s:%d: %s' % (method.capitalize(), self.server, path, self.host, self.port, reason))
        finally:
            conn.close()
        try:
            obj = json.loads(raw) if raw else {}
        except ValueError:
            obj = {"message": raw.decode(errors="replace")}
        if resp.status == 404 and ok404:
            return None
        if resp.status >= 400:
            raise APIError(resp.status, obj, obj.get("message") or resp.reason)
        return obj


def host_addresses():
    """IPv4 addresses of this host (global scope), in `ip` order."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout
    except OSError:
        return []
    return [line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3]


def default_address():
    """The address of the interface with the default route (kubeadm's
    ChooseHostInterface), else the first global one."""
    try:
        out = subprocess.run(["ip", "-4", "route", "get", "1.1.1.1"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout
        m = re.search(r"\bsrc (\S+)", out)
        if m:
            return m.group(1)
    except OSError:
        pass
    addrs = host_addresses()
    return addrs[0] if addrs else "127.0.0.1"
