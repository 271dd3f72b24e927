"""What a setup is: configuration, presets, events, the layer builder, sharing and strict JSON."""
