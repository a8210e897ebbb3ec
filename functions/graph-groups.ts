// Graph: groups, members ($ref), group licenses and their processing (plus the documented extensions).
import { groupRoutes } from '../src/api/graph/groups.js';
import { registerGraphRoutes } from '../src/api/register.js';

registerGraphRoutes(groupRoutes);
