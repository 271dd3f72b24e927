"""Looking into trained models: reading a drawing, confusion, attributions, costs, diagrams."""
