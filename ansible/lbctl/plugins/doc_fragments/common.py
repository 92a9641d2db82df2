# -*- coding: utf-8 -*-
# Options every lbctl.lbctl module takes.


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  lbctl_path:
    description:
      - Path of the lbctl executable on the managed host. Default is C(lbctl) on C(PATH).
    type: path
notes:
  - Needs lbctl 0.1.0 or later on the managed host (C(npm install -g lbctl)); the module says so when it is missing or too old.
  - Check mode runs lbctl with C(--dry-run), which reads the real state and reports the same C(changed), before and after as a real run, writing nothing.
requirements:
  - lbctl >= 0.1.0 on the managed host
'''

    # The virtual-service selector of the IPVS modules (lbctl.lbctl.common.ipvs).
    IPVS = r'''
options:
  service:
    description: The virtual service, C(VIP:PORT) (IPv6 as C([ADDR]:PORT)), or a firewall mark with I(protocol=fwmark).
    type: str
    required: true
  protocol:
    description: tcp, udp, sctp or fwmark.
    type: str
    choices: [tcp, udp, sctp, fwmark]
    default: tcp
  driver:
    description: IPVS driver (auto, netlink, ipvsadm).
    type: str
    choices: [auto, netlink, ipvsadm]
'''

    # Where and how the host-prep modules work (lbctl.lbctl.common.host).
    HOST = r'''
options:
  netns:
    description: Work inside this network namespace (ip netns name).
    type: str
  persist:
    description: Also write the boot files (sysctl.d and a systemd unit); with I(state=absent), remove them.
    type: bool
    default: false
  root:
    description: Write the I(persist) files under this directory instead of /.
    type: path
  state:
    description: C(present) prepares, C(absent) undoes (only what lbctl added).
    type: str
    choices: [present, absent]
    default: present
'''

    # The spec and the node of the spec-driven modules (lbctl.lbctl.common.spec).
    SPEC = r'''
options:
  spec:
    description: Cluster spec (YAML) on the managed host.
    type: path
    required: true
  node:
    description: Which machine of the spec this host is (a name in C(nodes); M(lbctl.lbctl.apply) also takes one in C(real_servers)).
    type: str
    required: true
'''
