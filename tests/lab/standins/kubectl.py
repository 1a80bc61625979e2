#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT Kubernetes' kubectl.
#
# Installed as /usr/bin/kubectl by the lab's stand-in "kubectl" package
# (tests/lab/standins/build-debs.sh). Implemented: `kubectl version --client
# [-o json|yaml]`; `kubectl version` without a reachable API server fails as
# the real one does. The other real subcommands exist and fail with "not
# implemented in the lab stand-in" (a later stage adds get nodes / apply).
# Unknown flags and commands fail as kubectl's do ("error: ...", exit 1).
import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the package directories
sys.path[:0] = [os.path.dirname(os.path.realpath(__file__)), "/usr/lib/kubestrap-standin/kubectl"]
import standin as s  # noqa: E402
from standin import Command, Flag, UsageError  # noqa: E402

KUSTOMIZE = {30: "v5.0.4-0.20230601165947-6ce0bf390ce3", 31: "v5.4.2", 32: "v5.5.0", 33: "v5.6.0"}


class KubectlError(Exception):
    pass


def kubeconfig_path(fl):
    if fl.get("kubeconfig"):
        return fl["kubeconfig"]
    env = os.environ.get("KUBECONFIG", "")
    for p in env.split(":"):
        if p and os.path.exists(p):
            return p
    p = os.path.expanduser("~/.kube/config")
    return p if os.path.exists(p) else None


def cmd_version(cmd, args, fl):
    if args:
        raise KubectlError('unknown command "%s" for "kubectl version"' % args[0])
    info = s.version_info()
    kustomize = KUSTOMIZE.get(s.MINOR, "v5.4.2")
    out = fl["output"]
    if out not in ("", "json", "yaml"):
        raise KubectlError("--output must be 'yaml' or 'json'")
    if not fl["client"]:
        server = fl.get("server") or ("localhost:8080" if kubeconfig_path(fl) is None else None)
        if out == "":
            print("Client Version: %s\nKustomize Version: %s" % (s.GIT_VERSION, kustomize))
        if server:
            raise KubectlError("The connection to the server %s was refused - did you specify the right host or port?" % server, True)
        raise KubectlError("the kubestrap lab's TEST STAND-IN kubectl has no API server to ask yet", True)
    doc = {"clientVersion": info, "kustomizeVersion": kustomize}
    if out == "json":
        print(s.to_json(doc))
    elif out == "yaml":
        print(s.to_yaml(doc))
    else:
        print("Client Version: %s\nKustomize Version: %s" % (s.GIT_VERSION, kustomize))


def not_implemented(cmd, args, fl):
    raise KubectlError("`%s` is not implemented in the kubestrap lab's TEST STAND-IN kubectl" % cmd.path())


def build():
    persistent = [Flag("kubeconfig"), Flag("context"), Flag("cluster"), Flag("user"),
                  Flag("namespace", short="n"), Flag("server", short="s"), Flag("request-timeout", default="0"),
                  Flag("insecure-skip-tls-verify", "bool"), Flag("certificate-authority"),
                  Flag("client-certificate"), Flag("client-key"), Flag("token"), Flag("v", short="v")]
    root = Command("kubectl", persistent=persistent, short="kubectl controls the Kubernetes cluster manager (TEST STAND-IN).")
    root.add(Command("version", cmd_version, [Flag("client", "bool"), Flag("output", short="o")],
                     short="Print the client and server version information"))
    for name in ("get", "apply", "create", "delete", "describe", "wait", "rollout", "logs", "exec",
                 "cluster-info", "config", "drain", "cordon", "uncordon", "label", "annotate", "patch",
                 "taint", "api-resources", "auth", "top", "edit", "replace", "scale", "run", "expose"):
        root.add(Command(name, not_implemented, args="loose"))
    return root


def main(argv):
    root = build()
    cmd = root
    for w in argv:
        if w.startswith("-") or w not in cmd.subs:
            break
        cmd = cmd.subs[w]
    try:
        if cmd.args == "loose":
            not_implemented(cmd, [], {})
        cmd, args, fl = s.parse(root, argv)
        if fl.get("help"):
            print(s.help_text(cmd))
            return 0
        if cmd.run is None:
            if args:
                raise UsageError('unknown command "%s" for "kubectl"' % args[0], cmd)
            print(s.help_text(cmd))
            return 0
        cmd.run(cmd, args, fl)
        return 0
    except UsageError as e:
        print("error: %s" % e, file=sys.stderr)
        if "flag" in str(e):
            print("See '%s --help' for usage." % (e.cmd or root).path(), file=sys.stderr)
        return 1
    except KubectlError as e:
        bare = len(e.args) > 1 and e.args[1]
        print(("%s" if bare else "error: %s") % e.args[0], file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
