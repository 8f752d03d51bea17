// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"sort"
	"strings"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/elasticsearchexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/syslogexporter"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
)

// The wrapped exporters' types, as the Collector names them.
const (
	typeSplunkHEC     = "splunk_hec"
	typeOTLPHTTP      = "otlp_http"
	typeSyslog        = "syslog"
	typeKafka         = "kafka"
	typeFile          = "file"
	typeElasticsearch = "elasticsearch"
	typeDebug         = "debug"
)

// wrappedFactories are the exporters of the distribution that lossless can wrap, by type.
// `otlphttp`, the type's name before v0.145, is accepted as an alias of `otlp_http`.
func wrappedFactories() map[string]exporter.Factory {
	otlp := otlphttpexporter.NewFactory()
	return map[string]exporter.Factory{
		typeSplunkHEC:     splunkhecexporter.NewFactory(),
		typeOTLPHTTP:      otlp,
		"otlphttp":        otlp,
		typeSyslog:        syslogexporter.NewFactory(),
		typeKafka:         kafkaexporter.NewFactory(),
		typeFile:          fileexporter.NewFactory(),
		typeElasticsearch: elasticsearchexporter.NewFactory(),
		typeDebug:         debugexporter.NewFactory(),
	}
}

// canonicalType folds aliases into the type the rest of this package switches on.
func canonicalType(name string) string {
	if name == "otlphttp" {
		return typeOTLPHTTP
	}
	return name
}

// speaksHTTP says whether the wrapped exporter sends through the Collector's HTTP client (confighttp),
// so that its answers can be read by the capture middleware (capture.go).
func speaksHTTP(name string) bool {
	switch canonicalType(name) {
	case typeSplunkHEC, typeOTLPHTTP, typeElasticsearch:
		return true
	}
	return false
}

func knownTypes() string {
	names := make([]string, 0, len(wrappedFactories()))
	for name := range wrappedFactories() {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
