import { governorContract, inProcessBackend, memoryStoreBackend } from '../test-support/governorContract.js';

governorContract(inProcessBackend);
governorContract(memoryStoreBackend);
