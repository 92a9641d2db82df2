#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: haproxy_server
short_description: Set an HAProxy server's state (ready, drain, maint) and weight through the runtime socket
description:
  - Runs C(lbctl haproxy server ready|drain|maint|weight) on the managed host. Reads the state first and changes only what differs.
  - Without I(backend), acts on the server named I(name) in every backend that has it (operators name servers after C(inventory_hostname)).
  - An unknown backend or server fails with lbctl's message; so does a name that no backend has.
version_added: 0.1.0
extends_documentation_fragment: lbctl.lbctl.common
options:
  name:
    description: Server name (the C(server) line's name in haproxy.cfg).
    type: str
    required: true
  backend:
    description: Backend of the server. Default is every backend that has a server of this name.
    type: str
  state:
    description: Administrative state. C(ready) clears maintenance and drain; C(drain) keeps established sessions but sends no new ones; C(maint) stops all traffic.
    type: str
    choices: [ready, drain, maint]
  weight:
    description: Weight 0-256, or N% of the configured weight (e.g. C(50%)).
    type: str
  wait:
    description: With I(state=drain), wait until the servers have no sessions left. Skipped in check mode.
    type: bool
    default: false
  wait_timeout:
    description: How long I(wait) waits (C(30s), C(5m)); the task fails when it runs out and the server stays draining.
    type: str
    default: 5m
  socket:
    description: HAProxy runtime socket (unix path or host:port). Default is the C(stats socket) of /etc/haproxy/haproxy.cfg.
    type: str
'''

EXAMPLES = r'''
- name: Take this web server out of every backend, waiting for its sessions to end
  lbctl.lbctl.haproxy_server:
    name: "{{ inventory_hostname }}"
    state: drain
    wait: true
    wait_timeout: 2m
    socket: /run/haproxy/admin.sock
  delegate_to: "{{ item }}"
  loop: "{{ groups.loadbalancers }}"

- name: Halve one server's weight
  lbctl.lbctl.haproxy_server:
    backend: app
    name: web1
    weight: 50%
'''

RETURN = r'''
servers:
  description: Every server acted on, as lbctl reports it (before and after each write).
  returned: always
  type: list
  elements: dict
  sample:
    - {backend: app, server: web1, action: updated, changed: true, initialWeight: 10,
       before: {admin: ready, op: running, weight: 10}, after: {admin: drain, op: running, weight: 10}}
msg:
  description: lbctl's one-line summary of the last write.
  returned: always
  type: str
'''

from ansible_collections.lbctl.lbctl.plugins.module_utils.lbctl import Lbctl, lbctl_module


def main():
    module = lbctl_module(dict(name=dict(type='str', required=True), backend=dict(type='str'),
                               state=dict(type='str', choices=['ready', 'drain', 'maint']), weight=dict(type='str'),
                               wait=dict(type='bool', default=False), wait_timeout=dict(type='str', default='5m'),
                               socket=dict(type='str')),
                          required_one_of=[('state', 'weight')])
    p = module.params
    lbctl = Lbctl(module)
    sock = ['--socket', p['socket']] if p['socket'] else []
    if p['backend']:
        refs = ['%s/%s' % (p['backend'], p['name'])]
    else:
        rows = lbctl.run(['haproxy', 'stat', '--type', 'server'] + sock, mutating=False)['rows']
        refs = ['%s/%s' % (r['pxname'], r['svname']) for r in rows if r['svname'] == p['name']]
        if not refs:
            module.fail_json(msg='no server "%s" in any backend on %s (see lbctl haproxy stat)' % (p['name'], rows and 'the socket' or 'haproxy'))
    servers, msgs = {}, []

    def merge(doc):
        for s in doc['servers']:
            key = '%s/%s' % (s['backend'], s['server'])
            old = servers.get(key)
            servers[key] = dict(s, before=old['before'] if old else s['before'], changed=s['changed'] or bool(old and old['changed']))
        msgs.append(doc['msg'])

    if p['state']:
        extra = ['--wait', '--timeout', p['wait_timeout']] if p['wait'] and p['state'] == 'drain' and not module.check_mode else []
        merge(lbctl.run(['haproxy', 'server', p['state']] + refs + extra + sock))
    if p['weight'] is not None:
        for ref in refs:
            merge(lbctl.run(['haproxy', 'server', 'weight', ref, p['weight']] + sock))
    result = list(servers.values())
    changed = any(s['changed'] for s in result)
    view = lambda side: ''.join('%s: %s weight %s\n' % (k, v[side]['admin'], v[side]['weight']) for k, v in sorted(servers.items()))
    module.exit_json(changed=changed, servers=result, msg=msgs[-1] if msgs else '', diff=dict(before=view('before'), after=view('after')))


if __name__ == '__main__':
    main()
