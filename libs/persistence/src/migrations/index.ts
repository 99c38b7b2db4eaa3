import { InitialSchema1795400000000 } from './1795400000000-initial-schema';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1795400000000];
