//! VM tier: the real kubestrap binary against real Debian 12 VMs (QEMU) that reboot.
//!
//! Namespace lab hosts share the build machine's kernel and never reboot;
//! these tests prove what only a real machine shows: swap stays off, the
//! pinned address, the kernel modules, containerd and kubelet survive a
//! reboot, and a static-IP rollback works on a real NIC with dhclient.
//!
//! Run them with `tests/run-all.sh --vm-only` (not yet part of the default run), which
//! boots the VMs with tests/vm/vm.sh and sets KUBESTRAP_VMS to their
//! directory. VMs have fixed jobs so the tests run in parallel: vm1 and vm2
//! are prepared and rebooted (reboot.rs); vm3 (control plane) and vm4
//! (worker) become a cluster whose worker reboots (bootstrap.rs); vm5 gets
//! an address that cuts it off and must roll back (rollback.rs).

#[allow(dead_code)]
#[path = "../it/inventories.rs"]
mod inventories;
#[path = "../it/lab.rs"]
mod lab;
#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;

mod bootstrap;
mod reboot;
mod rollback;
mod vms;
