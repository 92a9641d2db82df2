#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ipvs_service
short_description: An IPVS virtual service (ipvsadm -A/-E/-D), idempotent
description:
  - I(state=present) runs C(lbctl service add), which creates the service or updates it to match (options not given take ipvsadm's defaults); I(state=absent) runs C(lbctl service delete).
version_added: 0.1.0
extends_documentation_fragment: lbctl.lbctl.common
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
  scheduler:
    description: Scheduler (rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh).
    type: str
    default: wlc
  persistent:
    description: Persistence timeout in seconds (ipvsadm -p).
    type: int
  state:
    type: str
    choices: [present, absent]
    default: present
    description: Whether the service exists.
  driver:
    description: IPVS driver (auto, netlink, ipvsadm).
    type: str
    choices: [auto, netlink, ipvsadm]
'''

EXAMPLES = r'''
- lbctl.lbctl.ipvs_service:
    service: 192.168.0.100:80
    scheduler: rr
'''

RETURN = r'''
action:
  description: created, updated, unchanged, deleted or absent.
  returned: always
  type: str
commands:
  description: The equivalent ipvsadm commands (run, or in check mode, that would run).
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


def main():
    module = AnsibleModule(
        argument_spec=dict(COMMON_ARGS, service=dict(type='str', required=True), protocol=dict(type='str', choices=['tcp', 'udp', 'sctp', 'fwmark'], default='tcp'),
                           scheduler=dict(type='str', default='wlc'), persistent=dict(type='int'),
                           state=dict(type='str', choices=['present', 'absent'], default='present'),
                           driver=dict(type='str', choices=['auto', 'netlink', 'ipvsadm'])),
        supports_check_mode=True,
    )
    p = module.params
    argv = ['service', 'add' if p['state'] == 'present' else 'delete'] + selector(p)
    if p['state'] == 'present':
        argv += ['-s', p['scheduler']]
        if p['persistent'] is not None:
            argv += ['-p', str(p['persistent'])]
    doc = Lbctl(module).run(argv)
    module.exit_json(diff=ipvs_diff(doc), **strip(doc))


if __name__ == '__main__':
    main()
