#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: director
short_description: Prepare a host as an LVS director (ip_forward for NAT, send_redirects for DR, the VIP alias)
description:
  - I(state=present) runs C(lbctl director prep); I(state=absent) runs C(lbctl director unprep), which removes only what lbctl added.
version_added: 0.1.0
extends_documentation_fragment:
  - lbctl.lbctl.common
  - lbctl.lbctl.common.host
options:
  vips:
    description: VIP aliases to add on I(dev) (ADDR or ADDR/PREFIX). With I(state=absent), default is every VIP lbctl added.
    type: list
    elements: str
  mode:
    description: Forwarding method.
    type: str
    choices: [nat, dr, tun]
    default: dr
  dev:
    description: Interface of the VIP alias (DR default is the default route's).
    type: str
'''

EXAMPLES = r'''
- name: DR director with the VIP on eth0
  lbctl.lbctl.director:
    mode: dr
    vips: [192.168.0.100/24]
    dev: eth0
    persist: true
'''

RETURN = r'''
items:
  description: Every setting lbctl looked at, with before, after and action.
  returned: always
  type: list
  elements: dict
commands:
  description: The equivalent sysctl/ip commands run (or, in check mode, that would run).
  returned: always
  type: list
  elements: str
msg:
  description: lbctl's one-line summary.
  returned: always
  type: str
'''

from ansible_collections.lbctl.lbctl.plugins.module_utils.lbctl import run_host


def main():
    run_host('director', modes=['nat', 'dr', 'tun'])


if __name__ == '__main__':
    main()
