// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

// Package losslessexporter wraps an upstream exporter of the distribution (splunk_hec, otlp_http,
// syslog, kafka, file, elasticsearch) so that nothing it is given is dropped:
//
//	receiver ─► lossless/<name>: persistent queue (exporterhelper) ─► attempt ─► the wrapped exporter
//	                                   ▲                                │
//	                                   └── refused or unavailable ◄─────┤ (retried without a time limit)
//	                                                                    ├─► rejected records: the batch is
//	                                                                    │   split until each is alone,
//	                                                                    │   then the dead-letter store
//	                                                                    └─► too large: split likewise
//
// Upstream exporters mark some answers as permanent errors (splunk_hec: 400, 401, 403; otlp_http:
// every status but 429, 502, 503, 504; kafka: non-retriable broker errors such as
// MESSAGE_TOO_LARGE) and exporterhelper then deletes the batch from its queue. An audit trail
// cannot lose a weekend to a rotated token, so this exporter owns the queue and the retries, runs
// the wrapped exporter with neither, and classifies every attempt itself (verdict.go).
package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"
