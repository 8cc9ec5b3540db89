from siteplan.cli import main

if __name__ == "__main__":  # spawned worker processes (Dask, multiprocessing) import this module again
    main()
