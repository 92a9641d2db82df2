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
extends_documentation_fragment:
  - lbctl.lbctl.common
  - lbctl.lbctl.common.ipvs
options:
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

from ansible_collections.lbctl.lbctl.plugins.module_utils.lbctl import IPVS_ARGS, lbctl_module, run_ipvs, selector


def main():
    module = lbctl_module(dict(IPVS_ARGS, scheduler=dict(type='str', default='wlc'), persistent=dict(type='int'),
                               state=dict(type='str', choices=['present', 'absent'], default='present')))
    p = module.params
    argv = ['service', 'add' if p['state'] == 'present' else 'delete'] + selector(p)
    if p['state'] == 'present':
        argv += ['-s', p['scheduler']]
        if p['persistent'] is not None:
            argv += ['-p', str(p['persistent'])]
    run_ipvs(module, argv)


if __name__ == '__main__':
    main()
