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

/*
 * Assets and purchase orders, in the shape of a unified maintenance/ERP API. Like work orders, each
 * is computed from the seed and its index. Every entity is created at EPOCH + index × step and last
 * updated within `lag` of that, so a filter on `updatedAt` knows where to start looking.
 */

export interface Asset {
  key: string;
  name: string;
  assetType: string;
  location: string;
  status: string;
  parentKey?: string;
  updatedAt: string;
}

export interface PurchaseOrderLine {
  materialKey: string;
  quantity: number;
  unitPrice: number;
}

export interface PurchaseOrder {
  key: string;
  number: string;
  supplierId: string | null;
  status: string;
  lines: PurchaseOrderLine[];
  total: number;
  updatedAt: string;
}

/** When the entity at an index was created, and the most its last update can come after that. */
export interface Timing {
  stepMs: number;
  lagMs: number;
}

export const WORK_ORDER_TIMING: Timing = { stepMs: 60_000, lagMs: 86_400_000 };
export const ASSET_TIMING: Timing = { stepMs: 600_000, lagMs: 7 * 86_400_000 };
export const PURCHASE_ORDER_TIMING: Timing = { stepMs: 1_800_000, lagMs: 2 * 86_400_000 };

/** The first index whose record can have been updated after `instant` (ms): earlier ones cannot. */
export function firstIndexUpdatedAfter(timing: Timing, instant: number): number {
  return Math.max(0, Math.floor((instant - EPOCH - timing.lagMs) / timing.stepMs));
}

const ASSET_STATUSES = ['operational', 'operational', 'operational', 'down', 'in_maintenance', 'retired'];

/**
 * The asset at `index` (from 0): eight types in turn, numbered from 1 per type, so the first 3,200
 * are the assets work orders name (`AS-PUMP-0042`). About 30% hang under the first asset of their
 * type (`parentKey`); about 2% have no name (the ERP requires one).
 */
export function assetAt(seed: number, index: number): Asset {
  const r = random(seed * 1_000_033 + index + 7_777_777);
  const type = ASSETS[index % ASSETS.length] as string;
  const no = Math.floor(index / ASSETS.length) + 1;
  const created = EPOCH + index * ASSET_TIMING.stepMs;
  const hasParent = no > 1 && r() < 0.3;
  const noName = r() < 0.02;
  const asset: Omit<Asset, 'updatedAt'> & { updatedAt?: string } = {
    key: `AS-${type.toUpperCase()}-${String(no).padStart(4, '0')}`,
    name: noName ? '' : `${type} ${no}`,
    assetType: type.toLowerCase(),
    location: `LOC-${1 + Math.floor(r() * 40)}`,
    status: pick(r, ASSET_STATUSES),
  };
  if (hasParent) asset.parentKey = `AS-${type.toUpperCase()}-0001`;
  asset.updatedAt = new Date(created + Math.floor(r() * ASSET_TIMING.lagMs)).toISOString();
  return asset as Asset;
}

const PO_STATUSES = ['draft', 'approved', 'ordered', 'partially_received', 'received', 'cancelled'];

/**
 * The purchase order at `index` (from 0) with one to four lines. About 4% have no supplier and
 * about 3% no lines (the ERP requires both).
 */
export function purchaseOrderAt(seed: number, index: number): PurchaseOrder {
  const r = random(seed * 1_000_037 + index + 9_999_991);
  const created = EPOCH + index * PURCHASE_ORDER_TIMING.stepMs;
  const noSupplier = r() < 0.04;
  const noLines = r() < 0.03;
  const count = noLines ? 0 : 1 + Math.floor(r() * 4);
  const lines: PurchaseOrderLine[] = [];
  for (let i = 0; i < count; i++) {
    lines.push({
      materialKey: `MAT-${String(1 + Math.floor(r() * 5000)).padStart(5, '0')}`,
      quantity: 1 + Math.floor(r() * 50),
      unitPrice: Math.round(100 + r() * 99_900) / 100,
    });
  }
  const cents = lines.reduce((sum, l) => sum + Math.round(l.unitPrice * 100) * l.quantity, 0);
  return {
    key: `PO${String(7_100_000_000 + index * 104_729).padStart(12, '0')}`,
    number: `PO-${String(index + 1).padStart(6, '0')}`,
    supplierId: noSupplier ? null : `SUP-${String(1 + Math.floor(r() * 200)).padStart(4, '0')}`,
    status: pick(r, PO_STATUSES),
    lines,
    total: cents / 100,
    updatedAt: new Date(created + Math.floor(r() * PURCHASE_ORDER_TIMING.lagMs)).toISOString(),
  };
}
