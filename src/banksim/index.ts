/**
 * The bank simulator: an outside system in its own process with its own storage (`paybao
 * bank-sim`). The platform reaches it only over HTTP; what it shares with the platform's code
 * is the wire contract below (signatures, configuration types, the order view).
 */
export type { OrderView } from './bank.ts';
export { type BooksReport, verifyBooks } from './books.ts';
export {
  type BankConfig,
  type BankSimConfig,
  type CustomerConfig,
  defaultConfig,
  defaultMerchant,
  type FaultConfig,
  type MerchantConfig,
  noFaults,
  parseConfig,
  parseFaults,
} from './config.ts';
export { errorCatalog, type FailCode, failCodes } from './errors.ts';
export { type BankSimOptions, type RunningBankSim, startBankSim } from './server.ts';
export { signParams, signRequest, verifyCallback, verifyParams } from './sign.ts';
