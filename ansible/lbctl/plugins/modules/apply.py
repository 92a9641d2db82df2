#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: apply
short_description: Bring one node (director, real server or proxy) to an lbctl cluster spec, with one plan
description:
  - Runs C(lbctl apply SPEC --node NODE). lbctl validates the whole spec and the node's generated files (C(haproxy -c), C(keepalived -t)) before anything changes, then applies host settings, IPVS services and real servers, files, and reloads of only the daemons whose file changed.
  - Only what lbctl's records say it added is ever removed.
  - Check mode runs C(lbctl apply --dry-run) and returns the plan without changing anything.
  - C(--diff) shows one entry per planned change (before and after of a sysctl, address, route, IPVS service or real server; the unified diff of a file).
version_added: 0.1.0
extends_documentation_fragment:
  - lbctl.lbctl.common
  - lbctl.lbctl.common.spec
options:
  netns:
    description: Apply the host settings inside this network namespace (ip netns name).
    type: str
  root:
    description: Write files under this directory instead of /.
    type: path
    default: /
  drain:
    description: Real servers leaving the spec get weight 0 and lbctl waits for their connections to end before deleting them.
    type: bool
    default: false
  timeout:
    description: How long I(drain) waits (C(90s), C(2m)); the task fails when it runs out, with the weight left at 0.
    type: str
    default: 300s
  reload:
    description: Reload the daemons whose file changed. With C(false), the files are written and nothing is reloaded.
    type: bool
    default: true
  haproxy_pidfile:
    description: Signal this haproxy master to reload instead of asking systemd.
    type: path
  keepalived_pidfile:
    description: Signal this keepalived to reload instead of asking systemd.
    type: path
  lock_timeout:
    description: How long to wait for another lbctl holding this node's locks (C(500ms), C(30s), C(2m)).
    type: str
    default: 30s
'''

EXAMPLES = r'''
- name: Bring this machine to the cluster spec
  lbctl.lbctl.apply:
    spec: /etc/lbctl/cluster.yaml
    node: "{{ inventory_hostname_short }}"

- name: A director, draining real servers that leave the spec
  lbctl.lbctl.apply:
    spec: /etc/lbctl/cluster.yaml
    node: director1
    drain: true
    timeout: 2m
'''

RETURN = r'''
node:
  description: The machine of the spec this run was for.
  returned: success
  type: str
roles:
  description: What the node is (C(proxy), C(director), C(realserver)).
  returned: success
  type: list
  elements: str
dryRun:
  description: True in check mode; nothing was changed.
  returned: success
  type: bool
applied:
  description: How many changes each stage applied (C(host), C(ipvs), C(files), C(daemons)); all 0 in check mode.
  returned: success
  type: dict
plan:
  description: The plan (C(summary), C(counts), C(changes) with action, kind, id, reason, command, before, after and, for files, diff), as docs/plan-json.md describes it.
  returned: success
  type: dict
warnings:
  description: lbctl's warnings.
  returned: success
  type: list
  elements: str
msg:
  description: lbctl's one-line summary, or its error line.
  returned: always
  type: str
'''

import json

from ansible_collections.lbctl.lbctl.plugins.module_utils.lbctl import Lbctl, lbctl_module, strip


def show(value):
    if value is None:
        return ''
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True) + '\n'
    return '%s\n' % value


def plan_diff(plan):
    """One Ansible diff per change: the file's unified diff, or the change's before and after."""
    diffs = []
    for c in plan.get('changes', []):
        header = '%s %s (%s)' % (c.get('kind'), c.get('id'), c.get('reason'))
        if c.get('diff'):
            diffs.append(dict(before_header=c.get('id'), after_header=c.get('id'), prepared=c['diff']))
        else:
            diffs.append(dict(before_header=header, after_header=header, before=show(c.get('before')), after=show(c.get('after'))))
    return diffs


def main():
    module = lbctl_module(dict(spec=dict(type='path', required=True), node=dict(type='str', required=True),
                               netns=dict(type='str'), root=dict(type='path', default='/'), drain=dict(type='bool', default=False),
                               timeout=dict(type='str', default='300s'), reload=dict(type='bool', default=True),
                               haproxy_pidfile=dict(type='path'), keepalived_pidfile=dict(type='path'),
                               lock_timeout=dict(type='str', default='30s')))
    p = module.params
    argv = ['apply', p['spec'], '--node', p['node'], '--root', p['root'], '--lock-timeout', p['lock_timeout']]
    if p['netns']:
        argv += ['--netns', p['netns']]
    if p['drain']:
        argv += ['--drain', '--timeout', p['timeout']]
    if not p['reload']:
        argv.append('--no-reload')
    for opt in ('haproxy_pidfile', 'keepalived_pidfile'):
        if p[opt]:
            argv += ['--' + opt.replace('_', '-'), p[opt]]
    doc = Lbctl(module).run(argv)
    doc = strip(doc)
    doc.setdefault('msg', doc.get('plan', {}).get('summary', ''))
    module.exit_json(diff=plan_diff(doc.get('plan', {})), **doc)


if __name__ == '__main__':
    main()
