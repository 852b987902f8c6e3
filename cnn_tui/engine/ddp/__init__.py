"""Training as one rank of a torchrun job: PyTorch's DistributedDataParallel, nothing home-made.

- :mod:`.launch` reads what torchrun tells a rank (``RANK``, ``WORLD_SIZE``, ...) without
  importing torch, so the command line can decide early what this process is;
- :mod:`.courier` carries commands to every rank so that all obey them at the same step,
  with no collective that waits while a run is paused;
- :mod:`.world` is the :class:`~cnn_tui.engine.world.World` of a rank: the process group,
  the DDP wrapper, each rank's share of a batch, the sums read at logging batches.
"""
