module example.com/ordersgo

go 1.19
