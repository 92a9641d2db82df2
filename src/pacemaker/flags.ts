import { Flags } from '@oclif/core';

/** --wait / --timeout of the ha operations. */
export const waitFlags = {
  wait: Flags.boolean({ description: 'wait until the resources have settled (moved off, or started again)' }),
  timeout: Flags.string({ description: 'how long --wait may take (e.g. 30s, 2m); exit 8 after it', default: '60s' }),
};
