// Graph: JSON batching ($batch), dispatching sub-requests through the same routes.
import { graphRoutes } from '../src/api/graph-routes.js';
import { registerGraphRoutes } from '../src/api/register.js';

registerGraphRoutes(graphRoutes.filter((route) => route.name === 'graphBatch'));
