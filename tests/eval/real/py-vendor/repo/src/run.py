from shop.feeds.supplier import read_feed

if __name__ == "__main__":
    print(read_feed("currency=EUR;vat=21;\n"))
