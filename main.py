from source_meetlog.run import run

if __name__ == "__main__":
    run()
