// Graph: deleted items — soft-deleted users, restore, hard delete.
import { directoryRoutes } from '../src/api/graph/directory.js';
import { registerGraphRoutes } from '../src/api/register.js';

registerGraphRoutes(directoryRoutes);
