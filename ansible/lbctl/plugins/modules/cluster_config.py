#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_config
short_description: Install one node's haproxy.cfg and keepalived.conf from an lbctl cluster spec, and reload
description:
  - Runs C(lbctl config install SPEC --node NODE). The spec is validated and the daemons check the generated files before anything is written; files are replaced atomically (all or none), keeping modes, owners and a backup.
  - With I(reload), only daemons whose file changed are reloaded.
  - C(--diff) shows the unified diff of each file.
version_added: 0.1.0
extends_documentation_fragment:
  - lbctl.lbctl.common
  - lbctl.lbctl.common.spec
options:
  root:
    description: Install under this directory instead of /.
    type: path
    default: /
  reload:
    description: Reload haproxy/keepalived when their file changed.
    type: bool
    default: false
  netns:
    description: Where keepalived's config test runs (C(auto) uses a scratch namespace when an interface of the spec is missing here).
    type: str
    choices: [auto, always, never]
    default: auto
  haproxy_pidfile:
    description: Signal this haproxy master to reload instead of asking systemd.
    type: path
'''

EXAMPLES = r'''
- name: Install and reload this node's load-balancer config
  lbctl.lbctl.cluster_config:
    spec: /etc/lbctl/cluster.yaml
    node: "{{ inventory_hostname_short }}"
    reload: true
'''

RETURN = r'''
files:
  description: Each file with its action (created, updated, unchanged), diff and backup.
  returned: always
  type: list
  elements: dict
plan:
  description: The plan (file changes and reloads), as lbctl renders it.
  returned: always
  type: dict
msg:
  description: lbctl's one-line summary.
  returned: always
  type: str
'''

from ansible_collections.lbctl.lbctl.plugins.module_utils.lbctl import Lbctl, exit_doc, lbctl_module


def main():
    module = lbctl_module(dict(spec=dict(type='path', required=True), node=dict(type='str', required=True),
                               root=dict(type='path', default='/'), reload=dict(type='bool', default=False),
                               netns=dict(type='str', choices=['auto', 'always', 'never'], default='auto'), haproxy_pidfile=dict(type='path')))
    p = module.params
    argv = ['config', 'install', p['spec'], '--node', p['node'], '--root', p['root'], '--netns', p['netns']]
    if p['reload']:
        argv.append('--reload')
    if p['haproxy_pidfile']:
        argv += ['--haproxy-pidfile', p['haproxy_pidfile']]
    doc = Lbctl(module).run(argv)
    diffs = [dict(before_header=f['path'], after_header=f['path'], prepared=f['diff']) for f in doc['files'] if f.get('diff')]
    exit_doc(module, doc, diffs)


if __name__ == '__main__':
    main()
