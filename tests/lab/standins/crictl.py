#!/usr/bin/python3
# TEST STAND-IN for the kubestrap lab, NOT the real crictl (cri-tools).
#
# The lab's stand-in "cri-tools" package exists so the stand-in kubeadm can
# keep the real package's dependency (kubeadm 1.30/1.31 Depends: cri-tools
# (>= 1.30.0)). It answers `crictl --version`; every other use fails.
import os
import sys

VERSION = os.environ.get("STANDIN_CRICTL_VERSION", "@CRI_TOOLS_VERSION@")


def main(argv):
    if argv in (["--version"], ["-v"]):
        print("crictl version v%s" % VERSION)
        return 0
    print('time="0001-01-01T00:00:00Z" level=fatal msg="crictl of the kubestrap lab is a TEST STAND-IN: %s is not implemented"'
          % " ".join(argv or ["(no command)"]), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
