// Graph: devices (device license states on $select are an extension).
import { deviceRoutes } from '../src/api/graph/devices.js';
import { registerGraphRoutes } from '../src/api/register.js';

registerGraphRoutes(deviceRoutes);
