/** Validation of the bill queries: known parameters only, each well formed. */
import { check, fail, type Rule, str } from '../simulator-validation';

const BILL_DATE: Rule = { type: 'string', required: true, pattern: /^\d{4}-\d{2}-\d{2}$/, issue: 'must be a date YYYY-MM-DD' };
const TAR_TYPE: Rule = { type: 'string', enum: ['GZIP'] };

/** Which bill endpoint a query is for. */
export type BillQueryKind = 'trade' | 'fundflow' | 'subfundflow';

/** Query parameters of the bill endpoints. Required ones are checked in this order. */
const BILL_QUERIES: Record<BillQueryKind, Record<string, Rule>> = {
  trade: { bill_date: BILL_DATE, sub_mchid: str(1, 32), bill_type: { type: 'string', enum: ['ALL', 'SUCCESS', 'REFUND'] }, tar_type: TAR_TYPE },
  fundflow: { bill_date: BILL_DATE, account_type: { type: 'string', enum: ['BASIC', 'OPERATION', 'FEES'] }, tar_type: TAR_TYPE },
  subfundflow: {
    sub_mchid: str(1, 32, true),
    bill_date: BILL_DATE,
    // DEPOSIT is listed by IMSITE only; accepted.
    account_type: { type: 'string', required: true, enum: ['BASIC', 'OPERATION', 'FEES', 'DEPOSIT'] },
    algorithm: { type: 'string', required: true, enum: ['AEAD_AES_256_GCM', 'SM4_GCM'] },
    tar_type: TAR_TYPE,
  },
};

/**
 * Validates the query of `GET /v3/bill/tradebill`, `/v3/bill/fundflowbill` or `/v3/bill/sub-merchant-fundflowbill`:
 * known parameters only, each well formed. Returns them as a record (date range, readiness and the sub-merchant are
 * business rules checked by the bill office).
 */
export function validateBillQuery(kind: BillQueryKind, query: URLSearchParams): Record<string, string | undefined> {
  const record: Record<string, string> = {};
  for (const [k, v] of query) if (!(k in record)) record[k] = v;
  check({ type: 'object', required: true, fields: BILL_QUERIES[kind] }, record, '', 'query');
  const t = Date.parse(`${record.bill_date}T00:00:00Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== record.bill_date) fail('/bill_date', record.bill_date, 'is not a calendar date', 'query');
  return record;
}
