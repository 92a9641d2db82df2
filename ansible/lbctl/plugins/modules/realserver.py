#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: realserver
short_description: Prepare a host as an LVS DR/TUN real server (ARP sysctls, VIPs on lo or tunl0)
description:
  - I(state=present) runs C(lbctl realserver prep); I(state=absent) runs C(lbctl realserver unprep), which removes only what lbctl added.
version_added: 0.1.0
extends_documentation_fragment:
  - lbctl.lbctl.common
  - lbctl.lbctl.common.host
options:
  vips:
    description: Virtual IPs (IPv4) this real server answers for. With I(state=absent), default is every VIP lbctl added.
    type: list
    elements: str
  mode:
    description: Forwarding method of the director.
    type: str
    choices: [dr, tun]
    default: dr
  dev:
    description: Egress interface. Default is the default route's.
    type: str
'''

EXAMPLES = r'''
- name: DR real server for the web VIP
  lbctl.lbctl.realserver:
    vips: [192.168.0.100]
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
    run_host('realserver', modes=['dr', 'tun'])


if __name__ == '__main__':
    main()
