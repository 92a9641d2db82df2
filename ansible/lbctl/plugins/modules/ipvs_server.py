#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ipvs_server
short_description: A real server of an IPVS virtual service (ipvsadm -a/-e/-d), idempotent, with graceful removal
description:
  - I(state=present) runs C(lbctl server add), which adds the real server or updates it to match; I(state=absent) runs C(lbctl server delete), with I(drain) first setting weight 0 and waiting for its connections to end.
  - With I(state=present), an unknown virtual service fails with lbctl's message; with I(state=absent) it is ok (unchanged, action C(absent)).
version_added: 0.1.0
extends_documentation_fragment:
  - lbctl.lbctl.common
  - lbctl.lbctl.common.ipvs
options:
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

from ansible_collections.lbctl.lbctl.plugins.module_utils.lbctl import IPVS_ARGS, lbctl_module, run_ipvs, selector

METHOD = dict(dr='-g', tun='-i', nat='-m')


def main():
    module = lbctl_module(dict(IPVS_ARGS, real_server=dict(type='str', required=True), method=dict(type='str', choices=['dr', 'tun', 'nat'], default='dr'),
                               weight=dict(type='int', default=1), drain=dict(type='bool', default=False), drain_timeout=dict(type='str', default='5m'),
                               state=dict(type='str', choices=['present', 'absent'], default='present')))
    p = module.params
    if p['state'] == 'present':
        argv = ['server', 'add'] + selector(p) + ['-r', p['real_server'], METHOD[p['method']], '-w', str(p['weight'])]
    else:
        # Absent from a service that is absent too is the goal reached (ok), as Ansible modules do.
        argv = ['server', 'delete'] + selector(p) + ['-r', p['real_server'], '--missing-ok']
        if p['drain']:
            argv += ['--drain', '--timeout', p['drain_timeout']]
    # In check mode the service an earlier task would create does not exist yet: predict the
    # add instead of failing the whole check run (a real run still fails when it is missing).
    missing_ok = ('ESRCH',) if module.check_mode and p['state'] == 'present' else ()
    def predicted_add(error):
        module.warn('%s: check mode assumes an earlier task creates it; a real run fails if none does' % error['message'])
        return dict(changed=True, action='created', dryRun=True, msg='server add: would create (the service does not exist yet)',
                    service=error['message'].replace('virtual service ', '').replace(' does not exist', ''),
                    destination=p['real_server'], reasons=[], commands=[])
    run_ipvs(module, argv, tolerate=missing_ok, on_error=predicted_add)


if __name__ == '__main__':
    main()
