// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// componentType is the type of this exporter in a Collector configuration.
var componentType = component.MustNewType("lossless")

// Defaults of this exporter's own settings.
const (
	defaultRedriveInterval = 5 * time.Second
	defaultRepeatEvery     = 5 * time.Minute
)

// NewFactory creates the factory of the lossless exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(componentType, createDefaultConfig, exporter.WithLogs(createLogs, component.StabilityLevelAlpha))
}

func createDefaultConfig() component.Config {
	retry := configretry.NewDefaultBackOffConfig()
	// Never give up on a batch: giving up drops it.
	retry.MaxElapsedTime = 0
	return &Config{
		QueueConfig: configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig: retry,
		DeadLetter:  DeadLetterConfig{RedriveInterval: defaultRedriveInterval},
		Refusal:     RefusalConfig{RepeatEvery: defaultRepeatEvery},
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	config, ok := cfg.(*Config)
	if !ok {
		return nil, errors.New("lossless: unexpected configuration type")
	}
	e, err := newLosslessExporter(set, config)
	if err != nil {
		return nil, err
	}
	self, err := exporterhelper.NewLogs(ctx, set, cfg, e.push,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithQueue(config.QueueConfig),
		exporterhelper.WithRetry(config.RetryConfig),
		// Each attempt is bounded by the wrapped exporter's own timeout; a split batch makes several.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
	)
	if err != nil {
		return nil, err
	}
	e.self = self
	return self, nil
}
