import { batchRoute } from './graph/batch.js';
import { cloudLicensingRoutes } from './graph/cloud-licensing.js';
import { deviceRoutes } from './graph/devices.js';
import { directoryRoutes } from './graph/directory.js';
import { groupRoutes } from './graph/groups.js';
import { organizationRoutes } from './graph/organization.js';
import { userRoutes } from './graph/users.js';
import type { GraphRoute } from './routing.js';

/** Every route of the Graph-compatible surface, relative to `/api/v1.0`. */
export const graphRoutes: readonly GraphRoute[] = [
  ...userRoutes,
  ...groupRoutes,
  ...deviceRoutes,
  ...directoryRoutes,
  ...organizationRoutes,
  ...cloudLicensingRoutes,
  batchRoute(() => graphRoutes),
];
