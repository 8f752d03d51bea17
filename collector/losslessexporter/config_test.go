// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestConfigValidate(t *testing.T) {
	valid := func() map[string]any {
		return map[string]any{
			"exporter":    map[string]any{"splunk_hec": map[string]any{"endpoint": "https://splunk:8088/services/collector", "token": "t"}},
			"dead_letter": map[string]any{"directory": "/var/lib/otelcol-audit/dead-letters"},
		}
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		want   string
	}{
		{"valid", func(map[string]any) {}, ""},
		{"no wrapped exporter", func(m map[string]any) { m["exporter"] = map[string]any{} }, "exporter must name exactly one wrapped exporter"},
		{"two wrapped exporters", func(m map[string]any) {
			m["exporter"] = map[string]any{"splunk_hec": map[string]any{}, "syslog": map[string]any{}}
		}, "got 2 [splunk_hec syslog]"},
		{"an exporter it cannot wrap", func(m map[string]any) { m["exporter"] = map[string]any{"prometheus": map[string]any{}} }, "exporter::prometheus: not an exporter this one can wrap"},
		{"the wrapped exporter's own settings are checked", func(m map[string]any) {
			m["exporter"] = map[string]any{"splunk_hec": map[string]any{"endpoint": "https://splunk", "token": "t", "no_such_setting": 1}}
		}, "exporter::splunk_hec"},
		{"a queue on the wrapped exporter", func(m map[string]any) {
			m["exporter"] = map[string]any{"otlp_http": map[string]any{"endpoint": "https://siem", "sending_queue": map[string]any{"enabled": true}}}
		}, "set sending_queue on the lossless exporter"},
		{"retries that give up", func(m map[string]any) {
			m["retry_on_failure"] = map[string]any{"max_elapsed_time": "300s"}
		}, "max_elapsed_time must be 0 with a sending_queue"},
		{"retries that end, without a queue: the caller retries", func(m map[string]any) {
			m["sending_queue"] = map[string]any{"enabled": false}
			m["retry_on_failure"] = map[string]any{"max_elapsed_time": "60s"}
		}, ""},
		{"a queue without retries", func(m map[string]any) {
			m["retry_on_failure"] = map[string]any{"enabled": false}
		}, "retry_on_failure::enabled must be true with a sending_queue"},
		{"no dead-letter directory", func(m map[string]any) { delete(m, "dead_letter") }, "dead_letter::directory must be set"},
		{"the old otlphttp name", func(m map[string]any) {
			m["exporter"] = map[string]any{"otlphttp": map[string]any{"endpoint": "https://siem"}}
		}, ""},
		{"a file exporter (no queue settings of its own)", func(m map[string]any) {
			m["exporter"] = map[string]any{"file": map[string]any{"path": "/tmp/archive.zst", "compression": "zstd", "format": "json"}}
		}, ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			settings := valid()
			test.change(settings)
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			require.NoError(t, confmap.NewFromStringMap(settings).Unmarshal(cfg))
			err := cfg.Validate()
			if test.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), test.want)
		})
	}
}
