// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/xconfmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config of one lossless exporter.
//
//	exporters:
//	  lossless/splunk:
//	    exporter:
//	      splunk_hec:            # the wrapped exporter's type, and its settings as it takes them
//	        endpoint: https://splunk.example.com:8088/services/collector
//	        token: ${env:SPLUNK_HEC_TOKEN}
//	    sending_queue: ...       # this exporter's queue (the wrapped one runs without one)
//	    retry_on_failure: ...    # this exporter's retries (the wrapped one runs without them)
//	    dead_letter:
//	      directory: /var/lib/otelcol-audit/queue/dead-letters
type Config struct {
	// Exporter holds exactly one key: the type of the wrapped exporter (one of wrappedTypes), whose
	// value is its configuration without `sending_queue` and `retry_on_failure`.
	Exporter map[string]any `mapstructure:"exporter"`
	// QueueConfig is this exporter's sending queue: give it `storage` (file_storage) so that a
	// refused or unreachable destination's events survive a restart.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// RetryConfig paces the retries of refused and unavailable batches. `max_elapsed_time: 0` (the
	// default here) retries without a time limit. With a queue, a limit is refused by Validate, since
	// giving up would drop the batch; without one, the error goes back to the caller (a receiver, which
	// answers 503 to its client; a Kafka receiver, which backs off and reads the message again).
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// DeadLetter is where records the destination refused for good are kept, one file per exporter.
	DeadLetter DeadLetterConfig `mapstructure:"dead_letter"`
	// Refusal says how a refusal streak is reported.
	Refusal RefusalConfig `mapstructure:"refusal"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DeadLetterConfig says where rejected records are kept and how often re-drive requests are read.
type DeadLetterConfig struct {
	// Directory of the dead-letter files (`<exporter id>.ndjson`, mode 0600); created with mode 0700.
	Directory string `mapstructure:"directory"`
	// RedriveInterval is how often the directory is searched for re-drive files
	// (`<exporter id>.redrive-*.ndjson`, made by renaming the dead-letter file).
	RedriveInterval time.Duration `mapstructure:"redrive_interval"`
}

// RefusalConfig paces the log line of a refusal that lasts.
type RefusalConfig struct {
	// RepeatEvery is how often a refusal that lasts is logged again (its first attempt is always logged).
	RepeatEvery time.Duration `mapstructure:"repeat_every"`
}

var (
	_ component.Config   = (*Config)(nil)
	_ xconfmap.Validator = (*Config)(nil)
)

// wrappedType is the single key of Config.Exporter.
func (cfg *Config) wrappedType() (string, map[string]any, error) {
	if len(cfg.Exporter) != 1 {
		keys := make([]string, 0, len(cfg.Exporter))
		for key := range cfg.Exporter {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		return "", nil, fmt.Errorf("exporter must name exactly one wrapped exporter (one of %s), got %d %v", knownTypes(), len(keys), keys)
	}
	for name, value := range cfg.Exporter {
		settings, ok := value.(map[string]any)
		if value != nil && !ok {
			return "", nil, fmt.Errorf("exporter::%s must be a map of that exporter's settings", name)
		}
		return name, settings, nil
	}
	return "", nil, errors.New("unreachable")
}

// Validate checks this exporter's settings and the wrapped exporter's, as that exporter would.
func (cfg *Config) Validate() error {
	name, settings, err := cfg.wrappedType()
	if err != nil {
		return err
	}
	if _, err := wrappedConfig(name, settings); err != nil {
		return err
	}
	if cfg.QueueConfig.HasValue() && cfg.RetryConfig.Enabled && cfg.RetryConfig.MaxElapsedTime != 0 {
		return errors.New("retry_on_failure::max_elapsed_time must be 0 with a sending_queue: giving up on a queued batch would drop it")
	}
	if !cfg.RetryConfig.Enabled && cfg.QueueConfig.HasValue() {
		return errors.New("retry_on_failure::enabled must be true with a sending_queue: a failed batch would be dropped from the queue")
	}
	if cfg.DeadLetter.Directory == "" {
		return errors.New("dead_letter::directory must be set: records a destination refuses for good are kept there")
	}
	if cfg.DeadLetter.RedriveInterval <= 0 {
		return errors.New("dead_letter::redrive_interval must be positive")
	}
	if cfg.Refusal.RepeatEvery <= 0 {
		return errors.New("refusal::repeat_every must be positive")
	}
	return nil
}

// wrappedConfig builds the wrapped exporter's configuration from its settings: its factory's
// defaults, the settings over them, then the queue and retries taken out (this exporter has them).
func wrappedConfig(name string, settings map[string]any) (component.Config, error) {
	factory, ok := wrappedFactories()[name]
	if !ok {
		return nil, fmt.Errorf("exporter::%s: not an exporter this one can wrap (one of %s)", name, knownTypes())
	}
	for _, own := range []string{"sending_queue", "retry_on_failure"} {
		if _, set := settings[own]; set {
			return nil, fmt.Errorf("exporter::%s::%s: set %s on the lossless exporter, not on the exporter it wraps", name, own, own)
		}
	}
	merged := make(map[string]any, len(settings)+2)
	for key, value := range settings {
		merged[key] = value
	}
	cfg := factory.CreateDefaultConfig()
	defaults := confmap.New()
	if err := defaults.Marshal(cfg); err != nil {
		return nil, fmt.Errorf("exporter::%s: %w", name, err)
	}
	// Exporters without a queue or retries of their own (file) have no such settings to switch off.
	for _, own := range []string{"sending_queue", "retry_on_failure"} {
		if defaults.IsSet(own) {
			merged[own] = map[string]any{"enabled": false}
		}
	}
	if speaksHTTP(name) {
		middlewares, _ := merged["middlewares"].([]any)
		merged["middlewares"] = append(append([]any(nil), middlewares...), map[string]any{"id": captureID.String()})
	}
	if err := confmap.NewFromStringMap(merged).Unmarshal(cfg); err != nil {
		return nil, fmt.Errorf("exporter::%s: %w", name, err)
	}
	if err := xconfmap.Validate(cfg); err != nil {
		return nil, fmt.Errorf("exporter::%s: %w", name, err)
	}
	return cfg, nil
}
