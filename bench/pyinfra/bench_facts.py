"""Facts the benchmark deploy needs that pyinfra has no fact for, and
every host's copy of them (the playbook's hostvars).

Imported, not exec'd: pyinfra runs deploy.py once per host, all hosts at
once (one greenlet each), and a module is shared by all of them, so each
host's fact is fetched once, by whichever host asks first.
"""

from gevent.lock import Semaphore
from pyinfra.api import FactBase


class DefaultIpv4(FactBase):
    """Address, prefix and gateway of the default route's interface, as
    Ansible's ansible_default_ipv4 gives them."""

    def command(self):
        return "ip -4 route show default; ip -4 -o addr show scope global"

    def process(self, output):
        gateway = dev = None
        addrs = {}
        for line in output:
            words = line.split()
            if words[:2] == ["default", "via"]:
                gateway = words[2]
                if "dev" in words:
                    dev = words[words.index("dev") + 1]
            elif len(words) > 3 and words[2] == "inet":
                addrs.setdefault(words[1], words[3])
        cidr = addrs.get(dev) or next(iter(addrs.values()), None)
        if cidr is None:
            return None
        address, prefix = cidr.split("/")
        return {"address": address, "prefix": prefix, "gateway": gateway}


_known = {}
_locks = {}


def default_ipv4(host):
    """host's DefaultIpv4, fetched once for all deploys.

    One lock per host: without it every host's deploy would open a channel
    on that host's connection at the same moment, past sshd's MaxSessions
    (10) from N=10 on.
    """
    lock = _locks.setdefault(host.name, Semaphore())
    with lock:
        if host.name not in _known:
            value = host.get_fact(DefaultIpv4)
            if value is None:
                raise RuntimeError(f"{host.name}: no default IPv4 route or address")
            _known[host.name] = value
    return _known[host.name]
