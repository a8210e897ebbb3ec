// Graph beta's cloudLicensing views on v1.0: allotments, their waiting members, a user's usage rights and errors.
import { cloudLicensingRoutes } from '../src/api/graph/cloud-licensing.js';
import { registerGraphRoutes } from '../src/api/register.js';

registerGraphRoutes(cloudLicensingRoutes);
