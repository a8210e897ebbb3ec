// Graph: subscribedSkus and the directory audit log.
import { organizationRoutes } from '../src/api/graph/organization.js';
import { registerGraphRoutes } from '../src/api/register.js';

registerGraphRoutes(organizationRoutes);
