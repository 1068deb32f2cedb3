// The dataset-level API: grade a manifest, filter the graded rows, write a report.
export { gradeManifest } from './grade.js';
export type { GradeManifestOptions, GradeSummary, GradeProgress, GradedRow, GradedFields, GradedInputInfo } from './grade.js';
export { filterGraded } from './filter.js';
export type { FilterGradedOptions, FilterSummary, PathMode } from './filter.js';
export { readManifest, DEFAULT_KEYS } from './manifest.js';
export type { ManifestFormat, ManifestKeys, ManifestKeyOptions, ManifestRow, ReadManifestOptions } from './manifest.js';
export { compileWhere } from './where.js';
export type { Shard } from './shard.js';
export type { FsyncPolicy } from './output.js';
export { loadGraderModule } from './grader.js';
export type { GradeMode } from './grader.js';
export { writeReport } from '../report/index.js';
export type { WriteReportOptions, ReportSummary } from '../report/index.js';
