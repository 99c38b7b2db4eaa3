import { InitialSchema1795400000000 } from './1795400000000-initial-schema';
import { Credentials1795500000000 } from './1795500000000-credentials';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1795400000000, Credentials1795500000000];
