// Graph: users, their licenses (assignLicense, reprocessLicenseAssignment, licenseDetails).
import { userRoutes } from '../src/api/graph/users.js';
import { registerGraphRoutes } from '../src/api/register.js';

registerGraphRoutes(userRoutes);
