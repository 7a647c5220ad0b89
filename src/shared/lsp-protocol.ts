/**
 * Custom messages between the Polytope Lens language server (src/server) and its client (the extension, or any
 * editor). Declared once here; both sides import them. Result types come from ./results.
 *
 * Who owns what: the client owns settings, files and analysis results. In "client" mode the server reads no
 * model file: it asks the client for a model's structure (ModelStructureRequest) and receives results with
 * AnalysisNotification. In "server" mode (the default, used by Neovim/Helix/Emacs over stdio) the server opens
 * the model it finds from the Python file itself, with the engine, and shows the structural numbers.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { CodesResult, ModelSummary } from './results';

/** `initializationOptions` of the initialize request. */
export interface ServerInitOptions {
  polytopeLens?: {
    /** "client": ask the client for model structure (ModelStructureRequest). "server" (default): open models itself. */
    modelSource?: 'client' | 'server';
  };
}

/** One ONNX node, enough to map Python modules to it (Linear/Conv nodes have no units but have names). */
export interface OnnxNodeRef {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  /**
   * Module path the producer's names or metadata give ('' = root), or null/absent when they give none (older
   * clients send no such field: the server then reads the TorchScript scope from the name itself).
   */
  module?: string | null;
  /** What gave the module: node metadata (torch.export-based exporter), scope names (TorchScript, tf2onnx). */
  moduleFrom?: 'metadata' | 'scope' | 'params';
  /** Frames of the exporter's recorded stack trace, outermost first (one-based lines; text as recorded). */
  frames?: { file: string; line: number; text: string }[];
}

/** What the server needs to know about a model file: the engine's summary plus every node, in topological order. */
export interface ModelStructure {
  /** Absolute file-system path of the .onnx. */
  modelPath: string;
  /** Modification time of the .onnx (ms since epoch); compared with the Python file's to flag stale numbers. */
  mtimeMs: number;
  summary: ModelSummary;
  nodes: OnnxNodeRef[];
  /** Why the summary has no layers, when the engine could not size them (the node names still map). */
  note?: string;
}

/** Boundary crossings along paths, averaged over the paths analysed. */
export interface PathStats {
  /** Number of paths the means are taken over. */
  paths: number;
  /** Mean crossings (code bits flipped) per path, all layers. */
  mean_crossings: number;
  /** Mean crossings per path, by layer key. */
  per_layer_mean: Record<string, number>;
}

/** The latest analysis of a model (client → server). Replaces any earlier one for the same modelPath. */
export interface AnalysisParams {
  modelPath: string;
  summary: ModelSummary;
  /** Modification time of the .onnx that was analysed (ms since epoch). */
  modelMtimeMs?: number;
  /** All nodes in topological order; lets the server map Linear/Conv modules when it has no other structure. */
  nodes?: OnnxNodeRef[];
  codes?: Pick<CodesResult, 'n' | 'distinct_codes' | 'distinct_per_layer' | 'stats'> & { inputs_note?: string };
  pathStats?: PathStats;
  /** The numbers are of an earlier content of the model file (kept results; the model was re-exported since). */
  previousExport?: boolean;
}
export const AnalysisNotification = new NotificationType<AnalysisParams>('polytopeLens/analysis');

/** Forget the analysis of a model (client → server). */
export interface ModelRef {
  modelPath: string;
}
export const ClearAnalysisNotification = new NotificationType<ModelRef>('polytopeLens/clearAnalysis');

/** The model file changed on disk, e.g. re-exported (client → server): the server drops its cached structure. */
export const ModelChangedNotification = new NotificationType<ModelRef>('polytopeLens/modelChanged');

/**
 * Server → client, "client" mode only: the structure of the first candidate model file that exists, or null.
 * Candidates are absolute paths, best first (the export call's path literal, then a same-named .onnx).
 */
export interface ModelStructureParams {
  documentUri: string;
  candidates: string[];
}
export const ModelStructureRequest = new RequestType<ModelStructureParams, ModelStructure | null, void>('polytopeLens/modelStructure');

/** Client → server: which model a Python document belongs to and how its layer definitions map onto it. */
export interface DocumentModelParams {
  uri: string;
}
export interface MappedLayer {
  /** Module path in the exported model (`block.1`, `blocks.0.fc`); functional uses: scope path + `F.relu#k`. */
  path: string;
  /** Constructor or function as written, e.g. `nn.Linear`, `F.relu`. */
  ctor: string;
  /** Zero-based line of the definition in the document. */
  line: number;
  /** ONNX node names it maps to. */
  nodes: string[];
  /** Keys of the engine's layers (units) among or fed by those nodes. */
  layerKeys: string[];
  /** How the mapping was found: node metadata (torch.export-based exporter), scope names, parameter names, order. */
  via: 'metadata' | 'scope' | 'params' | 'order';
}
export interface DocumentModel {
  uri: string;
  /** The model file used, or null when none was found. */
  modelPath: string | null;
  /** Candidate model files, best first. */
  candidates: string[];
  /** The nn.Module class that was exported (root of the module paths). */
  rootClass: string | null;
  layers: MappedLayer[];
}
export const DocumentModelRequest = new RequestType<DocumentModelParams, DocumentModel | null, void>('polytopeLens/documentModel');

/** Command behind the hover link and the CodeLens; the client registers it. */
export const OPEN_LAYER_COMMAND = 'polytopeLens.openLayer';
export interface OpenLayerArgs {
  modelPath: string;
  /** Engine layer key to select (a unit layer), when there is one. */
  layer?: string;
  /** ONNX nodes of the definition. */
  nodes: string[];
  /** Where the definition is. */
  source: { uri: string; line: number };
}
