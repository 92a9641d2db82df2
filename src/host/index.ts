/** Host preparation for LVS: library entry points (the commands and the kernel-lab tests use these). */
export { prepRealServer, unprepRealServer, checkRealServer, realServerDesired, realServerPersistSpec, type RealServerOptions } from './realserver.js';
export { prepDirector, unprepDirector, checkDirector, directorDesired, directorPersistSpec, type DirectorOptions } from './director.js';
export { renderPersist, persistPaths, OWNER_MARK } from './persist.js';
export { Sysctls, confKey, effective } from './sysctl.js';
export type { CheckItem, CheckResult, HostChangeResult, ItemResult, RealServerMode, DirectorMode } from './types.js';
export { planHost, readHost, applyHost, hostProvider, type HostActual, type HostDesired, type HostChange, type HostPlan } from './provider.js';
export { RealHostSystem, type HostSystem } from './system.js';
