def main():
    print("idem-fix")
