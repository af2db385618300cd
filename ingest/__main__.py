from ingest.cli import main

if __name__ == "__main__":  # not when a multiprocessing forkserver imports it (archive.search.bulk)
    main()
