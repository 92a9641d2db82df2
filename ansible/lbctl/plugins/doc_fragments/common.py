# -*- coding: utf-8 -*-
# Options every lbctl.lbctl module takes.


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  lbctl_path:
    description:
      - Path of the lbctl executable on the managed host. Default is C(lbctl) on C(PATH).
    type: path
notes:
  - Needs lbctl 0.1.0 or later on the managed host (C(npm install -g lbctl)); the module says so when it is missing or too old.
  - Check mode runs lbctl with C(--dry-run), which reads the real state and reports the same C(changed), before and after as a real run, writing nothing.
requirements:
  - lbctl >= 0.1.0 on the managed host
'''
