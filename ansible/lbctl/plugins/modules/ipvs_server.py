#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ipvs_server
short_description: A real server of an IPVS virtual service (ipvsadm -a/-e/-d), idempotent, with graceful removal
description:
  - I(state=present) runs C(lbctl server add), which adds the real server or updates it to match; I(state=absent) runs C(lbctl server delete), with I(drain) first setting weight 0 and waiting for its connections to end.
  - An unknown virtual service fails with lbctl's message.
version_added: 0.1.0
extends_documentation_fragment: lbctl.lbctl.common
options:
  service:
    description: The virtual service, C(VIP:PORT), or a firewall mark with I(protocol=fwmark).
    type: str
    required: true
  protocol:
    description: tcp, udp, sctp or fwmark.
    type: str
    choices: [tcp, udp, sctp, fwmark]
    default: tcp
  real_server:
    description: The real server, C(ADDR[:PORT]).
    type: str
    required: true
  method:
    description: Forwarding method, direct routing (dr, ipvsadm -g), tunnel (tun, -i) or masquerading (nat, -m).
    type: str
    choices: [dr, tun, nat]
    default: dr
  weight:
    description: Weight 0-65535.
    type: int
    default: 1
  drain:
    description: With I(state=absent), set weight 0 and wait until the active connections reach 0 before deleting.
    type: bool
    default: false
  drain_timeout:
    description: How long I(drain) waits (C(90s), C(5m)).
    type: str
    default: 5m
  state:
    type: str
    choices: [present, absent]
    default: present
    description: Whether the real server is in the service.
  driver:
    description: IPVS driver (auto, netlink, ipvsadm).
    type: str
    choices: [auto, netlink, ipvsadm]
'''

EXAMPLES = r'''
- lbctl.lbctl.ipvs_server:
    service: 192.168.0.100:80
    real_server: 192.168.0.11
    method: dr
    weight: 3
'''

RETURN = r'''
action:
  description: created, updated, unchanged, deleted or absent.
  returned: always
  type: str
commands:
  description: The equivalent ipvsadm commands.
  returned: always
  type: list
  elements: str
msg:
  description: lbctl's one-line summary.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lbctl.lbctl.plugins.module_utils.lbctl import COMMON_ARGS, Lbctl, ipvs_diff, selector, strip

METHOD = dict(dr='-g', tun='-i', nat='-m')


def main():
    module = AnsibleModule(
        argument_spec=dict(COMMON_ARGS, service=dict(type='str', required=True), protocol=dict(type='str', choices=['tcp', 'udp', 'sctp', 'fwmark'], default='tcp'),
                           real_server=dict(type='str', required=True), method=dict(type='str', choices=['dr', 'tun', 'nat'], default='dr'),
                           weight=dict(type='int', default=1), drain=dict(type='bool', default=False), drain_timeout=dict(type='str', default='5m'),
                           state=dict(type='str', choices=['present', 'absent'], default='present'),
                           driver=dict(type='str', choices=['auto', 'netlink', 'ipvsadm'])),
        supports_check_mode=True,
    )
    p = module.params
    if p['state'] == 'present':
        argv = ['server', 'add'] + selector(p) + ['-r', p['real_server'], METHOD[p['method']], '-w', str(p['weight'])]
    else:
        argv = ['server', 'delete'] + selector(p) + ['-r', p['real_server']]
        if p['drain']:
            argv += ['--drain', '--timeout', p['drain_timeout']]
    doc = Lbctl(module).run(argv)
    module.exit_json(diff=ipvs_diff(doc), **strip(doc))


if __name__ == '__main__':
    main()
