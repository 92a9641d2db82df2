# -*- coding: utf-8 -*-
"""Run lbctl for an Ansible module: argv lists, --json, check mode as --dry-run, lbctl's errors."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

MIN_VERSION = (0, 1, 0)
# lbctl's exit code when --exit-code is given and something changed (or would): not a failure.
CHANGES_PENDING = 10

COMMON_ARGS = dict(lbctl_path=dict(type='path'))
# The service selector every IPVS module takes (doc fragment lbctl.lbctl.common.ipvs).
IPVS_ARGS = dict(service=dict(type='str', required=True), protocol=dict(type='str', choices=['tcp', 'udp', 'sctp', 'fwmark'], default='tcp'),
                 driver=dict(type='str', choices=['auto', 'netlink', 'ipvsadm']))
# Where the host-prep modules work (doc fragment lbctl.lbctl.common.host).
HOST_ARGS = dict(vips=dict(type='list', elements='str'), dev=dict(type='str'), netns=dict(type='str'), persist=dict(type='bool', default=False),
                 root=dict(type='path'), state=dict(type='str', choices=['present', 'absent'], default='present'))


def lbctl_module(argument_spec, **kwargs):
    """An AnsibleModule with the options every lbctl module takes; check mode is lbctl's --dry-run."""
    return AnsibleModule(argument_spec=dict(COMMON_ARGS, **argument_spec), supports_check_mode=True, **kwargs)


def exit_doc(module, doc, diff):
    """End the task with lbctl's document as the result (its changed and msg included)."""
    module.exit_json(diff=diff, **strip(doc))


class Lbctl(object):
    def __init__(self, module):
        self.module = module
        path = module.params.get('lbctl_path')
        self.bin = path or module.get_bin_path('lbctl')
        if not self.bin or not os.access(self.bin, os.X_OK):
            module.fail_json(msg='lbctl is not installed on this host (%s): install it with ' % (self.bin or 'not on PATH') +
                                 '"npm install -g lbctl" or set lbctl_path')
        self.version = self._check_version()

    def _installed_version(self):
        """The version of the lbctl package the executable belongs to, read from its package.json
        (bin/run.js -> ../package.json), or None when there is no such file. Starting node only to
        print the version costs 0.5-2 s a task on a slow host; reading a file costs nothing."""
        try:
            real = os.path.realpath(self.bin)
            with open(os.path.join(os.path.dirname(os.path.dirname(real)), 'package.json')) as f:
                pkg = json.load(f)
        except (IOError, OSError, ValueError):
            return None
        if not isinstance(pkg, dict) or pkg.get('name') != 'lbctl':
            return None
        m = re.match(r'(\d+)\.(\d+)\.(\d+)', str(pkg.get('version', '')))
        return tuple(int(x) for x in m.groups()) if m else None

    def _check_version(self):
        version = self._installed_version()
        if version is None:
            # Not an npm layout we know (a wrapper script, another packaging): ask lbctl itself.
            rc, out, err = self.module.run_command([self.bin, '--version'])
            m = re.search(r'lbctl/(\d+)\.(\d+)\.(\d+)', out or '')
            if rc != 0 or not m:
                self.module.fail_json(msg='%s --version failed (exit %s): %s; reinstall lbctl or set lbctl_path'
                                          % (self.bin, rc, (err or out).strip()[:300]))
            version = tuple(int(x) for x in m.groups())
        if version < MIN_VERSION:
            self.module.fail_json(msg='lbctl %s is too old for this collection (needs %s or later): upgrade it'
                                      % ('.'.join(map(str, version)), '.'.join(map(str, MIN_VERSION))))
        return '.'.join(map(str, version))

    def run(self, argv, mutating=True, ok_codes=(0,), tolerate=()):
        """lbctl ARGV --json [--dry-run]: the parsed document; fails the task with lbctl's msg,
        except for the error codes in TOLERATE, whose error document is returned."""
        args = [self.bin] + list(argv) + ['--json']
        if mutating and self.module.check_mode:
            args.append('--dry-run')
        rc, out, err = self.module.run_command(args)
        try:
            doc = json.loads(out)
        except ValueError:
            self.module.fail_json(msg='lbctl gave no JSON (exit %s): %s' % (rc, (err or out).strip()[:500]), rc=rc, cmd=args)
        if rc not in ok_codes and not (rc == CHANGES_PENDING and '--exit-code' in args) and (doc.get('error') or {}).get('code') not in tolerate:
            self.module.fail_json(msg=doc.get('msg') or (err or '').strip(), rc=rc, cmd=args, lbctl=doc,
                                  error=doc.get('error'), changed=False)
        doc['_cmd'] = args
        return doc


def host_diff(doc):
    """Ansible's diff from a host-prep result: each item's before and after."""
    before, after = [], []
    for item in doc.get('items', []):
        if not item.get('changed'):
            continue
        before.append('%s = %s' % (item['item'], item.get('before')))
        after.append('%s = %s' % (item['item'], item.get('after')))
    return dict(before='\n'.join(before) + ('\n' if before else ''), after='\n'.join(after) + ('\n' if after else ''))


def strip(doc):
    doc = dict(doc)
    doc.pop('_cmd', None)
    return doc


def host_argv(p, verb, what):
    argv = [what, verb]
    for v in p['vips'] or []:
        argv += ['--vip', v]
    if p['mode'] and (verb == 'prep' or what == 'director'):
        argv += ['--mode', p['mode']]
    for opt in ('dev', 'netns', 'root'):
        if p.get(opt):
            argv += ['--' + opt, p[opt]]
    if p['persist']:
        argv.append('--persist')
    return argv


def run_host(what, modes):
    """The whole of the realserver and director modules: prep or unprep, diff from each item."""
    module = lbctl_module(dict(HOST_ARGS, mode=dict(type='str', choices=modes, default='dr')))
    p = module.params
    if p['state'] == 'present' and not p['vips'] and what == 'realserver':
        module.fail_json(msg='vips is required with state=present')
    doc = Lbctl(module).run(host_argv(p, 'prep' if p['state'] == 'present' else 'unprep', what))
    exit_doc(module, doc, host_diff(doc))


FLAG = dict(tcp='-t', udp='-u', sctp='--sctp-service', fwmark='-f')


def selector(p):
    """The service selector flags (ipvsadm's) and the driver."""
    argv = [FLAG[p['protocol']], p['service']]
    if p.get('driver'):
        argv += ['--driver', p['driver']]
    return argv


def ipvs_diff(doc):
    """Before/after of an IPVS write: the ipvsadm commands it runs are the difference."""
    what = doc.get('service', '') + (' -> %s' % doc['destination'] if doc.get('destination') else '')
    if not doc.get('changed'):
        return dict(before='', after='')
    if doc.get('action') in ('deleted',):
        return dict(before='%s\n' % what, after='')
    return dict(before='%s\n' % (what if doc.get('action') == 'updated' else ''),
                after='%s\n%s\n' % (what, '\n'.join('# ' + r for r in doc.get('reasons', []) + doc.get('commands', []))))


def run_ipvs(module, argv, tolerate=(), on_error=None):
    """Run an IPVS write and end the task with its before/after; ON_ERROR turns a tolerated
    error document into the result to report."""
    doc = Lbctl(module).run(argv, tolerate=tolerate)
    if doc.get('error'):
        doc = on_error(doc['error'])
    exit_doc(module, doc, ipvs_diff(doc))
