"""One module per dvc.yaml stage: ``run(ctx, inputs, outputs) -> StageResult`` and ``main()``."""
