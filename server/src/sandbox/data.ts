/**
 * Deterministic seeded data for the sandbox maintenance system. Any record is computed from the
 * seed and its index alone, so a dataset of a million work orders costs no memory.
 */

export interface WorkOrder {
  key: string;
  code: string;
  title: string;
  status: string;
  statusKey: string;
  severity: string;
  assetKey: string | null;
  siteKey: string;
  locationKey: string;
  instructions: string;
  estimatedTime: string;
  scheduledAt: string;
  createdAt: string;
  updatedAt: string;
}

const TASKS = [
  'Replace bearing',
  'Inspect',
  'Lubricate',
  'Calibrate sensors',
  'Repair leak',
  'Clean filter',
  'Check motor',
  'Tighten belts',
];
const ASSETS = ['Pump', 'Conveyor', 'Compressor', 'Boiler', 'Chiller', 'Press', 'Mixer', 'Fan'];
const STATUSES = [
  ['Open', 'open'],
  ['In progress', 'in_progress'],
  ['On hold', 'on_hold'],
  ['Completed', 'completed'],
] as const;
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const SITES = ['SITE-BER', 'SITE-HAM', 'SITE-MUC'];
const EPOCH = Date.UTC(2026, 0, 1);

/** A small fast PRNG (mulberry32) seeded per record. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;

/** The work order at `index` (from 0) of the dataset made from `seed`. */
export function workOrderAt(seed: number, index: number): WorkOrder {
  const r = random(seed * 1_000_003 + index);
  const asset = pick(r, ASSETS);
  const assetNo = 1 + Math.floor(r() * 400);
  const [status, statusKey] = pick(r, STATUSES);
  // A known share of work orders lack what an ERP requires: ~5% no asset, ~3% no title.
  const noAsset = r() < 0.05;
  const noTitle = r() < 0.03;
  const created = EPOCH + index * 60_000;
  return {
    key: String(3_000_538_475_429 + index * 7919).padStart(14, '0'),
    code: `WO-${String(index + 1).padStart(6, '0')}`,
    title: noTitle ? '' : `${pick(r, TASKS)} on ${asset} ${assetNo}`,
    status,
    statusKey,
    severity: pick(r, SEVERITIES),
    assetKey: noAsset ? null : `AS-${asset.toUpperCase()}-${String(assetNo).padStart(4, '0')}`,
    siteKey: pick(r, SITES),
    locationKey: `LOC-${1 + Math.floor(r() * 40)}`,
    instructions: `Follow the standard procedure for ${asset.toLowerCase()}s.`,
    estimatedTime: String(15 * (1 + Math.floor(r() * 16))),
    scheduledAt: new Date(created + 86_400_000 * (1 + Math.floor(r() * 30))).toISOString(),
    createdAt: new Date(created).toISOString(),
    updatedAt: new Date(created + Math.floor(r() * 86_400_000)).toISOString(),
  };
}

/** The work orders at indexes `from` (included) to `to` (excluded). */
export function workOrderRange(seed: number, from: number, to: number): WorkOrder[] {
  const out: WorkOrder[] = [];
  for (let i = from; i < to; i++) out.push(workOrderAt(seed, i));
  return out;
}
